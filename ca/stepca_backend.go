package ca

import (
	"context"
	"errors"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/stepca"
)

// loadStepCA connects to a team's step-ca, which then signs the mesh's leaves. The mesh trusts
// the step-ca root; leaves carry step-ca's intermediate.
func (m *Manager) loadStepCA(ctx context.Context, mesh string, b api.CABackend, lifetime time.Duration) (*backend, error) {
	cfg, err := stepca.ConfigFromConf(b.Conf, func(ds api.DataSource) ([]byte, error) {
		return m.readDataSource(ctx, mesh, "stepca", &ds)
	})
	if err != nil {
		return nil, err
	}
	ext, err := stepca.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	roots := ext.Roots()
	if len(roots) == 0 {
		return nil, errors.New("step-ca returned no roots")
	}
	// A provisioner that advertises a maximum refuses anything longer; asking for it directly
	// beats failing every issuance.
	if max := ext.MaxLifetime(); max > 0 && lifetime > max {
		lifetime = max
	}
	root := roots[0]
	return &backend{
		name:         b.Name,
		typ:          b.Type,
		external:     ext,
		root:         root,
		notBefore:    root.NotBefore,
		notAfter:     root.NotAfter,
		leafLifetime: lifetime,
	}, nil
}
