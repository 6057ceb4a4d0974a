package certs_test

import (
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/x509util"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

func mustURIs(t *testing.T, id certs.Identity) []*url.URL {
	t.Helper()
	uris, err := id.URIs()
	require.NoError(t, err)
	return uris
}

func TestLeafTemplateFields(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	for _, spec := range []certs.KeySpec{certs.ECDSAP256, certs.RSA(2048)} {
		t.Run(spec.String(), func(t *testing.T) {
			key, err := certs.GenerateKey(spec)
			require.NoError(t, err)
			uris := mustURIs(t, certs.Identity{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"version": {"v1"}}})
			leaf := root.SignLeaf(t, certs.LeafParams{URIs: uris, PublicKey: key.Public()})

			assert.Empty(t, leaf.Subject.String(), "Kuma leaves have an empty subject")
			assert.Empty(t, leaf.DNSNames)
			require.Len(t, leaf.URIs, 2)
			assert.Equal(t, "spiffe://default/web", leaf.URIs[0].String())
			assert.Equal(t, "kuma://version/v1", leaf.URIs[1].String())
			for _, e := range leaf.Extensions {
				if e.Id.Equal(oidSAN) {
					assert.True(t, e.Critical, "SAN must be critical when the subject is empty (RFC 5280 4.2.1.6)")
				}
			}
			assert.True(t, leaf.BasicConstraintsValid)
			assert.False(t, leaf.IsCA)
			assert.ElementsMatch(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage)
			want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
			if spec.Type == certs.KeyRSA {
				want |= x509.KeyUsageKeyEncipherment
			}
			assert.Equal(t, want, leaf.KeyUsage)
			certstest.RequireOpenSSLVerify(t, []*x509.Certificate{root.Cert}, nil, leaf)
		})
	}
}

func TestLeafTemplateErrors(t *testing.T) {
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	uris := mustURIs(t, certs.Identity{Mesh: "default", Services: []string{"web"}})
	now := time.Now()
	ok := certs.LeafParams{URIs: uris, PublicKey: key.Public(), Serial: big.NewInt(1), NotBefore: now, NotAfter: now.Add(time.Hour)}
	_, err = certs.LeafTemplate(ok)
	require.NoError(t, err)
	for msg, mutate := range map[string]func(*certs.LeafParams){
		"no URI SAN":                     func(p *certs.LeafParams) { p.URIs = nil },
		"no public key":                  func(p *certs.LeafParams) { p.PublicKey = nil },
		"serial number must be positive": func(p *certs.LeafParams) { p.Serial = big.NewInt(0) },
		"is not after NotBefore":         func(p *certs.LeafParams) { p.NotAfter = p.NotBefore },
	} {
		p := ok
		mutate(&p)
		_, err := certs.LeafTemplate(p)
		require.ErrorContains(t, err, msg)
	}
}

func TestRootTemplate(t *testing.T) {
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	serial, err := certs.NewSerial()
	require.NoError(t, err)
	now := time.Now()
	tmpl, err := certs.RootTemplate(certs.RootParams{Mesh: "default", PublicKey: key.Public(), Serial: serial, NotBefore: now, NotAfter: now.AddDate(10, 0, 0)})
	require.NoError(t, err)
	root, err := x509util.CreateCertificate(tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)

	assert.Equal(t, []string{"Kuma"}, root.Subject.Organization)
	assert.Equal(t, []string{"Mesh"}, root.Subject.OrganizationalUnit)
	assert.Equal(t, "default", root.Subject.CommonName)
	require.Len(t, root.URIs, 1)
	assert.Equal(t, "spiffe://default", root.URIs[0].String())
	assert.True(t, root.IsCA)
	assert.Equal(t, -1, root.MaxPathLen, "no path length limit, as in Kuma")
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, root.KeyUsage)
	assert.Equal(t, 0, root.SerialNumber.Cmp(serial))
	assert.NotEmpty(t, root.SubjectKeyId)

	_, err = certs.RootTemplate(certs.RootParams{Mesh: "default", Serial: big.NewInt(0), NotBefore: now, NotAfter: now.Add(time.Hour)})
	require.ErrorContains(t, err, "serial number must be positive")
	_, err = certs.RootTemplate(certs.RootParams{Mesh: "Not A Mesh", Serial: big.NewInt(1), NotBefore: now, NotAfter: now.Add(time.Hour)})
	require.ErrorContains(t, err, "trust domain")
}
