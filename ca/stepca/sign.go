package stepca

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"go.step.sm/crypto/x509util"
)

// SignRequest asks for one leaf.
type SignRequest struct {
	// Template gives the leaf's subject common name and SANs (URI SANs included). The other
	// fields are step-ca's to decide: see the package doc. May be nil when CSR is set; the
	// CSR's names are used then.
	Template *x509.Certificate
	// Signer is the leaf's private key. It only signs a CSR here and never leaves the
	// process; a bare public key is not enough because step-ca signs only CSRs, which prove
	// possession of the key.
	Signer crypto.Signer
	// CSR is the alternative to Signer for a caller that already has one. Its names must
	// equal the template's, or step-ca refuses it.
	CSR *x509.CertificateRequest
	// Lifetime of the leaf; 0 takes the provisioner's default. Capped at MaxLifetime when
	// the provisioner advertises one.
	Lifetime time.Duration
}

// Sign has step-ca issue a leaf and returns it first, then the intermediates step-ca sent
// (not the root: that is in Roots). The leaf is checked before it is returned: same public
// key as requested, every requested SAN present, chain verifying to Roots.
func (b *Backend) Sign(ctx context.Context, req SignRequest) ([]*x509.Certificate, error) {
	tmpl, csr, err := req.prepare()
	if err != nil {
		return nil, b.errorf(err, "sign request")
	}
	sans := sansOf(tmpl.DNSNames, tmpl.EmailAddresses, tmpl.IPAddresses, tmpl.URIs)
	lifetime := req.Lifetime
	if b.maxLifetime > 0 && lifetime > b.maxLifetime {
		lifetime = b.maxLifetime
	}

	resp, err := await(ctx, func() (*apiv1.CreateCertificateResponse, error) {
		return b.cas.CreateCertificate(&apiv1.CreateCertificateRequest{
			Template: tmpl,
			CSR:      csr,
			Lifetime: lifetime,
		})
	})
	if err != nil {
		return nil, b.errorf(err, "signing %v for %s", sans, lifetime)
	}
	chain := append([]*x509.Certificate{resp.Certificate}, resp.CertificateChain...)
	if err := b.checkIssued(chain, csr, sans); err != nil {
		return nil, b.errorf(err, "leaf for %v", sans)
	}
	return chain, nil
}

// prepare returns the template stepcas reads names from and a CSR carrying exactly those
// names, which the JWK provisioner insists on.
func (r SignRequest) prepare() (*x509.Certificate, *x509.CertificateRequest, error) {
	switch {
	case r.Lifetime < 0:
		return nil, nil, fmt.Errorf("negative lifetime %s", r.Lifetime)
	case r.Signer != nil && r.CSR != nil:
		return nil, nil, errors.New("set Signer or CSR, not both")
	case r.Signer == nil && r.CSR == nil:
		return nil, nil, errors.New("Signer or CSR is required (step-ca signs only CSRs)")
	case r.Template == nil && r.CSR == nil:
		return nil, nil, errors.New("Template is required with Signer")
	}

	tmpl := r.Template
	if tmpl == nil {
		tmpl = &x509.Certificate{
			Subject:        r.CSR.Subject,
			DNSNames:       r.CSR.DNSNames,
			EmailAddresses: r.CSR.EmailAddresses,
			IPAddresses:    r.CSR.IPAddresses,
			URIs:           r.CSR.URIs,
		}
	}
	sans := sansOf(tmpl.DNSNames, tmpl.EmailAddresses, tmpl.IPAddresses, tmpl.URIs)
	if len(sans) == 0 {
		return nil, nil, errors.New("no SANs: a mesh leaf needs at least its SPIFFE URI")
	}

	if r.CSR != nil {
		if err := r.CSR.CheckSignature(); err != nil {
			return nil, nil, fmt.Errorf("CSR signature: %w", err)
		}
		return tmpl, r.CSR, nil
	}
	csr, err := x509util.CreateCertificateRequest(tmpl.Subject.CommonName, sans, r.Signer)
	if err != nil {
		return nil, nil, err
	}
	return tmpl, csr, nil
}

// checkIssued is the last line against a step-ca whose template rewrites names or whose
// chain does not lead to the roots the mesh trusts.
func (b *Backend) checkIssued(chain []*x509.Certificate, csr *x509.CertificateRequest, want []string) error {
	leaf := chain[0]
	if pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(csr.PublicKey) {
		return errors.New("step-ca returned a certificate for another public key")
	}
	got := sansOf(leaf.DNSNames, leaf.EmailAddresses, leaf.IPAddresses, leaf.URIs)
	for _, s := range want {
		if !slices.Contains(got, s) {
			return fmt.Errorf("SAN %s is missing (it has %v): the provisioner's x509 template must keep the requested SANs, as step-ca's default does with {{ toJson .SANs }}", s, got)
		}
	}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range b.roots {
		roots.AddCert(r)
	}
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return fmt.Errorf("does not verify to the step-ca roots: %w", err)
	}
	return nil
}

// sansOf flattens names in the order and spelling stepcas puts them in its token.
func sansOf(dns, emails []string, ips []net.IP, uris []*url.URL) []string {
	out := make([]string, 0, len(dns)+len(emails)+len(ips)+len(uris))
	out = append(out, dns...)
	out = append(out, emails...)
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	for _, u := range uris {
		out = append(out, u.String())
	}
	return out
}
