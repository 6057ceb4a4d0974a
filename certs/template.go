package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/fips140"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"go.step.sm/crypto/x509util"
)

// LeafParams are the variable parts of a workload certificate.
type LeafParams struct {
	// URIs are the SAN URIs, SPIFFE ID first (Identity.URIs gives them in Kuma's order).
	URIs      []*url.URL
	PublicKey crypto.PublicKey
	Serial    *big.Int
	NotBefore time.Time
	NotAfter  time.Time
}

// LeafTemplate is the template of a workload certificate, field for field Kuma's
// (pkg/core/ca/issuer): empty subject (so the SAN extension is critical), URI SANs only,
// ExtKeyUsage server and client auth, CA:false. Key usage follows the key: Kuma's
// DigitalSignature|KeyEncipherment|KeyAgreement for RSA; for ECDSA the same minus
// KeyEncipherment, which RFC 5480 does not allow on EC keys.
func LeafTemplate(p LeafParams) (*x509.Certificate, error) {
	switch {
	case len(p.URIs) == 0:
		return nil, errors.New("leaf template: no URI SAN")
	case p.PublicKey == nil:
		return nil, errors.New("leaf template: no public key")
	case p.Serial == nil || p.Serial.Sign() <= 0:
		return nil, errors.New("leaf template: serial number must be positive")
	case !p.NotAfter.After(p.NotBefore):
		return nil, fmt.Errorf("leaf template: NotAfter %s is not after NotBefore %s", p.NotAfter, p.NotBefore)
	}
	ku, err := leafKeyUsage(p.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("leaf template: %w", err)
	}
	skid, err := subjectKeyID(p.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("leaf template: %w", err)
	}
	// Built directly rather than through x509util.Certificate, which would copy the same
	// fields into the same x509.Certificate: every issuance builds one.
	return &x509.Certificate{
		URIs:                  p.URIs,
		KeyUsage:              ku,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SerialNumber:          p.Serial,
		SubjectKeyId:          skid,
		NotBefore:             p.NotBefore,
		NotAfter:              p.NotAfter,
		PublicKey:             p.PublicKey,
	}, nil
}

// subjectKeyID is the key identifier x509util would give an ECDSA key (RFC 5280 4.2.1.2
// method 1: SHA-1 of the subjectPublicKey bits, which for ECDSA are the uncompressed point;
// in FIPS 140 mode the leftmost 160 bits of SHA-256, RFC 7093), without the DER round trip
// through encoding/asn1 that x509util.GenerateSubjectKeyID makes for every leaf. nil for
// other keys: x509util computes theirs.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, nil
	}
	q, err := k.Bytes()
	if err != nil {
		return nil, fmt.Errorf("subject key id: %w", err)
	}
	if fips140.Enabled() {
		h := sha256.Sum256(q)
		return h[:20], nil
	}
	h := sha1.Sum(q) //nolint:gosec // the key identifier RFC 5280 defines, not a security hash
	return h[:], nil
}

func leafKeyUsage(pub crypto.PublicKey) (x509.KeyUsage, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement, nil
	case *ecdsa.PublicKey:
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, nil
	default:
		return 0, fmt.Errorf("unsupported leaf key type %T", pub)
	}
}

// RootParams are the variable parts of a mesh's self-signed root.
type RootParams struct {
	Mesh string
	// PublicKey may be nil when the signer supplies it (smallstep's softcas does).
	PublicKey crypto.PublicKey
	Serial    *big.Int
	NotBefore time.Time
	NotAfter  time.Time
}

// RootTemplate is the template of a builtin mesh root, as Kuma's builtin CA makes it
// (pkg/plugins/ca/builtin): subject O=Kuma, OU=Mesh, CN=<mesh>; URI SAN spiffe://<mesh>;
// CA:true without a path length limit; KeyUsage CertSign|CRLSign. Unlike Kuma (serial 0) the
// serial is random and must be positive.
func RootTemplate(p RootParams) (*x509.Certificate, error) {
	td, err := TrustDomain(p.Mesh)
	if err != nil {
		return nil, fmt.Errorf("root template: %w", err)
	}
	switch {
	case p.Serial == nil || p.Serial.Sign() <= 0:
		return nil, errors.New("root template: serial number must be positive")
	case !p.NotAfter.After(p.NotBefore):
		return nil, fmt.Errorf("root template: NotAfter %s is not after NotBefore %s", p.NotAfter, p.NotBefore)
	}
	c := x509util.Certificate{
		Subject: x509util.Subject{
			Organization:       x509util.MultiString{"Kuma"},
			OrganizationalUnit: x509util.MultiString{"Mesh"},
			CommonName:         p.Mesh,
		},
		URIs:             x509util.MultiURL{td.ID().URL()},
		KeyUsage:         x509util.KeyUsage(x509.KeyUsageCertSign | x509.KeyUsageCRLSign),
		BasicConstraints: &x509util.BasicConstraints{IsCA: true, MaxPathLen: -1},
		SerialNumber:     x509util.SerialNumber{Int: p.Serial},
		NotBefore:        p.NotBefore,
		NotAfter:         p.NotAfter,
		PublicKey:        p.PublicKey,
	}
	return c.GetCertificate(), nil
}
