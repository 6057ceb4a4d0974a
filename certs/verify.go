package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// VerifySVID verifies a workload certificate chain (leaf first, then intermediates) against the
// trust bundles in source, at the given time (zero: now), and returns the SPIFFE IDs the leaf
// asserts, in certificate order. Callers authorise on those IDs.
//
// go-spiffe's x509svid.Verify does the work, but it insists on exactly one URI SAN, as the
// X509-SVID spec says, while a Kuma-compatible leaf has one SPIFFE ID per service plus
// kuma:// tag URIs. So a leaf with several URIs is verified through a copy that carries only
// its primary SPIFFE ID; its signature still covers the original TBS bytes with every URI, so
// nothing unverified gets through. The one check the copy would skip is URI name constraints
// over the other URIs: if any verified chain carries URI constraints, the real leaf is run
// through x509 verification as well.
func VerifySVID(chain []*x509.Certificate, source x509bundle.Source, at time.Time) ([]spiffeid.ID, error) {
	if len(chain) == 0 {
		return nil, errors.New("verify SVID: empty chain")
	}
	leaf := chain[0]
	ids, err := LeafIDs(leaf)
	if err != nil {
		return nil, fmt.Errorf("verify SVID: %w", err)
	}
	var opts []x509svid.VerifyOption
	if !at.IsZero() {
		opts = append(opts, x509svid.WithTime(at))
	}
	if len(leaf.URIs) == 1 {
		if _, _, err := x509svid.Verify(chain, source, opts...); err != nil {
			return nil, fmt.Errorf("verify SVID %s: %w", ids[0], err)
		}
		return ids, nil
	}
	view := *leaf
	view.URIs = []*url.URL{ids[0].URL()}
	projected := append([]*x509.Certificate{&view}, chain[1:]...)
	_, verified, err := x509svid.Verify(projected, source, opts...)
	if err != nil {
		return nil, fmt.Errorf("verify SVID %s: %w", ids[0], err)
	}
	if hasURIConstraints(verified) {
		if _, err := leaf.Verify(x509.VerifyOptions{
			Roots:         poolOf(verified, true),
			Intermediates: poolOf([][]*x509.Certificate{chain[1:]}, false),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
			CurrentTime:   at,
		}); err != nil {
			return nil, fmt.Errorf("verify SVID %s: URI name constraints: %w", ids[0], err)
		}
	}
	return ids, nil
}

// LeafIDs returns the SPIFFE IDs among a certificate's URI SANs, in order. It is an error if
// there is none, if one is malformed, or if they span trust domains: one certificate speaks
// for one mesh.
func LeafIDs(leaf *x509.Certificate) ([]spiffeid.ID, error) {
	var ids []spiffeid.ID
	for _, u := range leaf.URIs {
		if u.Scheme != "spiffe" {
			continue
		}
		id, err := spiffeid.FromURI(u)
		if err != nil {
			return nil, fmt.Errorf("URI SAN %q: %w", u, err)
		}
		if len(ids) > 0 && id.TrustDomain() != ids[0].TrustDomain() {
			return nil, fmt.Errorf("URI SANs %s and %s are in different trust domains", ids[0], id)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("certificate has no SPIFFE ID URI SAN")
	}
	return ids, nil
}

func hasURIConstraints(chains [][]*x509.Certificate) bool {
	for _, chain := range chains {
		for _, c := range chain {
			if len(c.PermittedURIDomains) > 0 || len(c.ExcludedURIDomains) > 0 {
				return true
			}
		}
	}
	return false
}

// poolOf pools the roots (last certificates) of chains, or every certificate of them.
func poolOf(chains [][]*x509.Certificate, rootsOnly bool) *x509.CertPool {
	p := x509.NewCertPool()
	for _, chain := range chains {
		if rootsOnly {
			if len(chain) > 0 {
				p.AddCert(chain[len(chain)-1])
			}
			continue
		}
		for _, c := range chain {
			p.AddCert(c)
		}
	}
	return p
}
