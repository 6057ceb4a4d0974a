package ca

import (
	"context"
	"fmt"
	"os"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// readDataSource returns the bytes a Kuma DataSource points at. field names it in errors. Files
// and Secrets read are remembered (sourcewatch.go), so that a change to them reloads the mesh's
// CA without a change to the Mesh.
func (m *Manager) readDataSource(ctx context.Context, mesh, field string, ds *api.DataSource) ([]byte, error) {
	return sourceReader{
		file: func(path string) ([]byte, error) { return m.sources.readFile(mesh, path) },
		secret: func(name string) ([]byte, error) {
			if m.opts.Secrets == nil {
				return nil, errNoSecretResolver
			}
			b, err := m.opts.Secrets(ctx, mesh, name)
			m.sources.noteSecret(mesh, name, b, err)
			return b, err
		},
	}.read(field, ds)
}

// sourceReader reads data sources: from the files and Secrets of a running Manager, or plainly
// (ProvidedRoots, for `meshgate validate`).
type sourceReader struct {
	file   func(path string) ([]byte, error)
	secret func(name string) ([]byte, error)
}

var errNoSecretResolver = fmt.Errorf("no secret resolver configured")

// plainSources reads files from disk and Secrets through secrets (nil: none resolve).
func plainSources(ctx context.Context, mesh string, secrets SecretResolver) sourceReader {
	return sourceReader{
		file: os.ReadFile,
		secret: func(name string) ([]byte, error) {
			if secrets == nil {
				return nil, errNoSecretResolver
			}
			return secrets(ctx, mesh, name)
		},
	}
}

func (r sourceReader) read(field string, ds *api.DataSource) ([]byte, error) {
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
		b, err := r.file(ds.File)
		if err != nil {
			return nil, fmt.Errorf("conf.%s.file: %w", field, err)
		}
		return b, nil
	case ds.Secret != "":
		b, err := r.secret(ds.Secret)
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
