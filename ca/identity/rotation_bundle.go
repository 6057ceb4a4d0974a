package identity

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
)

// transitionCAs is the CA manager as the rest of the control plane sees it: an Authority's
// bundle also holds the mesh's retiring roots, so that the bundle endpoint serves exactly what
// dataplanes validate with.
type transitionCAs struct {
	*ca.Manager
	rot *rotations
}

func (t transitionCAs) For(ctx context.Context, mesh *api.Mesh) (ca.Authority, error) {
	a, err := t.Manager.For(ctx, mesh)
	if err != nil {
		return nil, err
	}
	return transitionAuthority{Authority: a, extra: t.rot.retiringCerts(mesh.Name)}, nil
}

type transitionAuthority struct {
	ca.Authority
	extra []*x509.Certificate
}

func (a transitionAuthority) Bundle(ctx context.Context) (*x509bundle.Bundle, error) {
	b, err := a.Authority.Bundle(ctx)
	if err != nil {
		return nil, fmt.Errorf("transition bundle: %w", err)
	}
	for _, c := range a.extra {
		b.AddX509Authority(c)
	}
	return b, nil
}
