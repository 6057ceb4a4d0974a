package ca

import (
	"context"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
)

// IssueRequest asks for one workload certificate.
type IssueRequest struct {
	// Mesh must be the Authority's mesh; a mismatch is a wiring bug that would hand one mesh's
	// identity to another, so it is an error rather than ignored.
	Mesh string
	// Services become `spiffe://<mesh>/<service>` URI SANs, the first being the primary one.
	Services []string
	// Tags are the dataplane's tags, written as `kuma://<tag>/<value>` URIs (Kuma compatibility).
	Tags map[string][]string
	// Lifetime overrides the backend's leaf lifetime (dpCert.rotation.expiration, default 24 h)
	// when positive.
	Lifetime time.Duration
}

// Issued is a workload certificate with its key.
type Issued struct {
	// CertPEM is the leaf followed by the intermediates up to (not including) the root.
	CertPEM []byte
	// KeyPEM is the leaf's private key, PKCS#8.
	KeyPEM    []byte
	NotBefore time.Time
	NotAfter  time.Time
	// RenewAt is when 80 % of the certificate's life since issuance has passed, as in Kuma.
	RenewAt time.Time
	// Backend names the mesh CA backend that issued it.
	Backend string
}

// Authority is one mesh's CA.
type Authority interface {
	// Issue signs a new workload certificate with the mesh's enabled backend.
	Issue(ctx context.Context, req IssueRequest) (Issued, error)
	// Bundle is every root the mesh trusts: the roots of all its backends. The caller owns the
	// returned bundle.
	Bundle(ctx context.Context) (*x509bundle.Bundle, error)
}
