package ir

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// spiffeTrustDomains checks a SPIFFE validator secret: every key a trust domain, every value a
// PEM bundle Go can parse.
func (v *validator) spiffeTrustDomains(path string, domains map[string]string) {
	names := make([]string, 0, len(domains))
	for td := range domains {
		names = append(names, td)
	}
	sort.Strings(names) // errors in a stable order
	for _, td := range names {
		p := fmt.Sprintf("%s.spiffeTrustDomains[%q]", path, td)
		if _, err := spiffeid.TrustDomainFromString(td); err != nil {
			v.add(p, "not a SPIFFE trust domain: %v", err)
		}
		if err := checkBundlePEM(domains[td]); err != nil {
			v.add(p, "%v", err)
		}
	}
}

// checkBundlePEM accepts only PEM certificates Go can parse: Envoy rejects the whole listener
// for one bad bundle, so a mesh with a broken CA must be caught before it costs every mesh.
func checkBundlePEM(data string) error {
	rest := []byte(data)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("bundle holds a %q PEM block, want only certificates", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("bundle certificate %d: %w", n, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("bundle holds no PEM certificate")
	}
	return nil
}
