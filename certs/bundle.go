package certs

import (
	"crypto/x509"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
)

// NewBundle is a mesh's X.509 trust bundle: its trust domain and the given roots. Several roots
// are normal while a mesh changes CA; duplicates are dropped.
func NewBundle(mesh string, roots ...*x509.Certificate) (*x509bundle.Bundle, error) {
	td, err := TrustDomain(mesh)
	if err != nil {
		return nil, err
	}
	b := x509bundle.New(td)
	for _, r := range roots {
		b.AddX509Authority(r)
	}
	return b, nil
}

// BundlePEM is the bundle's roots as PEM, the form Envoy's validation context takes.
func BundlePEM(b *x509bundle.Bundle) ([]byte, error) {
	out, err := b.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal bundle of %s: %w", b.TrustDomain(), err)
	}
	return out, nil
}

// ParseBundle reads a mesh's bundle from PEM.
func ParseBundle(mesh string, data []byte) (*x509bundle.Bundle, error) {
	td, err := TrustDomain(mesh)
	if err != nil {
		return nil, err
	}
	b, err := x509bundle.Parse(td, data)
	if err != nil {
		return nil, fmt.Errorf("parse bundle of mesh %q: %w", mesh, err)
	}
	return b, nil
}

// SPIFFEBundle converts an X.509 bundle to a SPIFFE bundle, the form the SPIFFE bundle
// endpoint (federation) serves.
func SPIFFEBundle(b *x509bundle.Bundle) *spiffebundle.Bundle {
	return spiffebundle.FromX509Bundle(b)
}
