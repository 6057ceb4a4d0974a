package certstest

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/x509util"

	"github.com/meshgate/meshgate/certs"
)

// CA is a test certificate authority: its certificate, key and issuers.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Parent is the issuer, nil for a root.
	Parent *CA
}

// Option changes how a CA is made, to build the broken CAs tests need.
type Option func(*config)

type config struct {
	tmpl *x509.Certificate
	key  certs.KeySpec
}

// Validity sets NotBefore and NotAfter.
func Validity(notBefore, notAfter time.Time) Option {
	return func(c *config) { c.tmpl.NotBefore, c.tmpl.NotAfter = notBefore, notAfter }
}

// NotCA makes the certificate an end entity (CA:false).
func NotCA() Option {
	return func(c *config) { c.tmpl.IsCA = false }
}

// KeyUsage replaces the key usage.
func KeyUsage(ku x509.KeyUsage) Option {
	return func(c *config) { c.tmpl.KeyUsage = ku }
}

// PermittedURIDomains adds a URI name constraint.
func PermittedURIDomains(domains ...string) Option {
	return func(c *config) { c.tmpl.PermittedURIDomains = domains }
}

// URIs sets the URI SANs.
func URIs(uris ...*url.URL) Option {
	return func(c *config) { c.tmpl.URIs = uris }
}

// Key sets the CA's key type; the default is ECDSA P-256.
func Key(spec certs.KeySpec) Option {
	return func(c *config) { c.key = spec }
}

// NewRoot makes a self-signed root, valid from an hour ago for a year.
func NewRoot(t testing.TB, name string, opts ...Option) *CA {
	t.Helper()
	return issue(t, nil, name, opts)
}

// NewIntermediate makes a CA signed by ca.
func (ca *CA) NewIntermediate(t testing.TB, name string, opts ...Option) *CA {
	t.Helper()
	return issue(t, ca, name, opts)
}

// Chain is this CA's certificate followed by its issuers up to the root.
func (ca *CA) Chain() []*x509.Certificate {
	var out []*x509.Certificate
	for c := ca; c != nil; c = c.Parent {
		out = append(out, c.Cert)
	}
	return out
}

// Root is the root at the top of this CA's chain.
func (ca *CA) Root() *x509.Certificate {
	c := ca
	for c.Parent != nil {
		c = c.Parent
	}
	return c.Cert
}

// ChainPEM is Chain as PEM, as a provided CA's `cert` data source holds it.
func (ca *CA) ChainPEM() []byte { return certs.EncodeCertificates(ca.Chain()...) }

// CertPEM is only this CA's certificate as PEM.
func (ca *CA) CertPEM() []byte { return certs.EncodeCertificates(ca.Cert) }

// KeyPEM is the CA key as PEM.
func (ca *CA) KeyPEM(t testing.TB) []byte {
	t.Helper()
	b, err := certs.EncodePrivateKey(ca.Key)
	require.NoError(t, err)
	return b
}

func issue(t testing.TB, parent *CA, name string, opts []Option) *CA {
	t.Helper()
	serial, err := certs.NewSerial()
	require.NoError(t, err)
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"meshgate test"}, CommonName: name},
		SerialNumber:          serial,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	cfg := config{tmpl: tmpl}
	for _, o := range opts {
		o(&cfg)
	}
	key, err := certs.GenerateKey(cfg.key)
	require.NoError(t, err)

	issuerCert, issuerKey := tmpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
	}
	// x509util adds the subject key ID, so OpenSSL's -x509_strict finds key identifiers.
	cert, err := x509util.CreateCertificate(tmpl, issuerCert, key.Public(), issuerKey)
	require.NoError(t, err)
	return &CA{Cert: cert, Key: key, Parent: parent}
}

// SignLeaf signs a workload certificate from certs.LeafTemplate with this CA. Zero fields of p
// are filled in: a fresh ECDSA key, a random serial, and validity from an hour ago for an hour.
func (ca *CA) SignLeaf(t testing.TB, p certs.LeafParams) *x509.Certificate {
	t.Helper()
	if p.PublicKey == nil {
		k, err := certs.GenerateKey(certs.ECDSAP256)
		require.NoError(t, err)
		p.PublicKey = k.Public()
	}
	if p.Serial == nil {
		s, err := certs.NewSerial()
		require.NoError(t, err)
		p.Serial = s
	}
	if p.NotBefore.IsZero() {
		p.NotBefore = time.Now().Add(-time.Hour)
	}
	if p.NotAfter.IsZero() {
		p.NotAfter = time.Now().Add(time.Hour)
	}
	tmpl, err := certs.LeafTemplate(p)
	require.NoError(t, err)
	cert, err := x509util.CreateCertificate(tmpl, ca.Cert, p.PublicKey, ca.Key)
	require.NoError(t, err)
	return cert
}
