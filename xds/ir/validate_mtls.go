package ir

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// clientValidation checks the mutual-TLS half of a DownstreamTLS. Envoy refuses to require
// client certificates without something to validate them against, and a validator on a chain
// that does not require certificates would let certificate-less clients through unnoticed.
func (v *validator) clientValidation(path string, t DownstreamTLS) {
	switch {
	case t.RequireClientCert && len(t.SPIFFETrustDomains) == 0:
		v.add(path+".spiffeTrustDomains", "at least one trust domain is required with requireClientCert")
	case !t.RequireClientCert && len(t.SPIFFETrustDomains) > 0:
		v.add(path+".requireClientCert", "must be set when spiffeTrustDomains are")
	}
	domains := make([]string, 0, len(t.SPIFFETrustDomains))
	for td := range t.SPIFFETrustDomains {
		domains = append(domains, td)
	}
	sort.Strings(domains) // errors in a stable order
	for _, td := range domains {
		p := fmt.Sprintf("%s.spiffeTrustDomains[%q]", path, td)
		if _, err := spiffeid.TrustDomainFromString(td); err != nil {
			v.add(p, "not a SPIFFE trust domain: %v", err)
		}
		if err := checkBundlePEM(t.SPIFFETrustDomains[td]); err != nil {
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
