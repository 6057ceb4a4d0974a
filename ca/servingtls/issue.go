package servingtls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"go.step.sm/crypto/x509util"

	"github.com/meshgate/meshgate/certs"
)

// leafCommonName is the generated leaf's subject; clients match the SANs, never this.
const leafCommonName = "meshgate control plane"

// issue makes a serving leaf with a fresh key, valid from now (backdated) for validity, cut at
// the CA's end. The chain served is the leaf alone: clients hold the CA.
func (c *controlPlaneCA) issue(sans sanSet, now time.Time, validity time.Duration) (*tls.Certificate, error) {
	notBefore, notAfter := now.Add(-Backdate), now.Add(validity)
	if notAfter.After(c.cert.NotAfter) {
		notAfter = c.cert.NotAfter
	}
	if notBefore.Before(c.cert.NotBefore) {
		notBefore = c.cert.NotBefore
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("issue serving certificate: the control-plane CA expired at %s", c.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := certs.GenerateKey(certs.ECDSAP256)
	if err != nil {
		return nil, fmt.Errorf("issue serving certificate: %w", err)
	}
	serial, err := certs.NewSerial()
	if err != nil {
		return nil, fmt.Errorf("issue serving certificate: %w", err)
	}
	tmpl := (&x509util.Certificate{
		Subject:     x509util.Subject{CommonName: leafCommonName},
		DNSNames:    sans.dns,
		IPAddresses: sans.ips,
		// ECDSA: DigitalSignature only (RFC 5480 forbids KeyEncipherment on EC keys).
		KeyUsage:         x509util.KeyUsage(x509.KeyUsageDigitalSignature),
		ExtKeyUsage:      x509util.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraints: &x509util.BasicConstraints{IsCA: false},
		SerialNumber:     x509util.SerialNumber{Int: serial},
		NotBefore:        notBefore,
		NotAfter:         notAfter,
		PublicKey:        key.Public(),
	}).GetCertificate()
	resp, err := c.cas.CreateCertificate(&apiv1.CreateCertificateRequest{
		Template: tmpl, Lifetime: notAfter.Sub(now), Backdate: now.Sub(notBefore),
	})
	if err != nil {
		return nil, fmt.Errorf("issue serving certificate: sign: %w", err)
	}
	leaf := resp.Certificate
	// Check what clients will check, so a broken leaf fails here and not in every client.
	roots := x509.NewCertPool()
	roots.AddCert(c.cert)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, fmt.Errorf("issued serving certificate does not verify against the control-plane CA: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, nil
}
