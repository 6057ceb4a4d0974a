package ca_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/store"
)

// Retiring roots survive a new Manager on the same store, and a write based on a stale version
// is a conflict rather than a blind overwrite.
func TestRetiringRootsPersist(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	m, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	roots, version, err := m.LoadRetiring(ctx, "default")
	require.NoError(t, err)
	assert.Empty(t, roots)
	assert.Zero(t, version)

	mesh := meshWith("default", builtin("ca-1", nil))
	backends, err := m.BackendRoots(ctx, mesh)
	require.NoError(t, err)
	require.Len(t, backends, 1)
	assert.Equal(t, "ca-1", backends[0].Backend)
	until := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	v1, err := m.SaveRetiring(ctx, "default", []ca.RetiringRoot{{Backend: "ca-1", Cert: backends[0].Cert, Until: until}}, version)
	require.NoError(t, err)

	again, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	roots, v, err := again.LoadRetiring(ctx, "default")
	require.NoError(t, err)
	assert.Equal(t, v1, v)
	require.Len(t, roots, 1)
	assert.True(t, roots[0].Cert.Equal(backends[0].Cert))
	assert.Equal(t, until, roots[0].Until)
	assert.Equal(t, ca.Fingerprint(backends[0].Cert), ca.Fingerprint(roots[0].Cert))

	_, err = m.SaveRetiring(ctx, "default", nil, version)
	assert.ErrorIs(t, err, store.ErrConflict)
	_, err = m.SaveRetiring(ctx, "default", nil, v1)
	require.NoError(t, err)
}

// A backend named "retiring" does not collide with the retiring roots' state.
func TestRetiringStateDoesNotCollideWithBackend(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, ca.Options{})
	backends, err := m.BackendRoots(ctx, &api.Mesh{
		Meta: api.Meta{Kind: api.KindMesh, Name: "default"},
		Spec: api.MeshSpec{MTLS: &api.MTLS{EnabledBackend: "retiring", Backends: []api.CABackend{builtin("retiring", nil)}}},
	})
	require.NoError(t, err)
	_, err = m.SaveRetiring(ctx, "default", []ca.RetiringRoot{{Backend: "x", Cert: backends[0].Cert, Until: time.Now()}}, 0)
	require.NoError(t, err)
	again, err := m.BackendRoots(ctx, meshWith("default", builtin("retiring", nil)))
	require.NoError(t, err)
	assert.True(t, again[0].Cert.Equal(backends[0].Cert))
}
