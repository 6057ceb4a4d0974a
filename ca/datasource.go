package ca

import (
	"context"
	"fmt"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// readDataSource returns the bytes a Kuma DataSource points at. field names it in errors. Files
// and Secrets read are remembered (sourcewatch.go), so that a change to them reloads the mesh's
// CA without a change to the Mesh.
func (m *Manager) readDataSource(ctx context.Context, mesh, field string, ds *api.DataSource) ([]byte, error) {
	if ds == nil {
		return nil, fmt.Errorf("conf.%s: is required", field)
	}
	set := 0
	for _, s := range []string{ds.Secret, ds.File, ds.Inline, ds.InlineString} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("conf.%s: exactly one of secret, file, inline or inlineString must be set", field)
	}
	switch {
	case ds.File != "":
		b, err := m.sources.readFile(mesh, ds.File)
		if err != nil {
			return nil, fmt.Errorf("conf.%s.file: %w", field, err)
		}
		return b, nil
	case ds.Secret != "":
		if m.opts.Secrets == nil {
			return nil, fmt.Errorf("conf.%s.secret %q: no secret resolver configured", field, ds.Secret)
		}
		b, err := m.opts.Secrets(ctx, mesh, ds.Secret)
		m.sources.noteSecret(mesh, ds.Secret, b, err)
		if err != nil {
			return nil, fmt.Errorf("conf.%s.secret %q: %w", field, ds.Secret, err)
		}
		return b, nil
	case ds.Inline != "":
		b, err := api.DecodeBase64(ds.Inline)
		if err != nil {
			return nil, fmt.Errorf("conf.%s.inline: %w", field, err)
		}
		return b, nil
	default:
		return []byte(ds.InlineString), nil
	}
}
