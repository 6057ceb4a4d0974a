package ca_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/store"
)

func createdAt(m *api.Mesh, at time.Time) *api.Mesh {
	m.CreationTime = at.UTC()
	return m
}

func rootOf(t *testing.T, m *ca.Manager, mesh *api.Mesh) string {
	t.Helper()
	roots, err := m.BackendRoots(context.Background(), mesh)
	require.NoError(t, err)
	require.Len(t, roots, 1)
	return ca.Fingerprint(roots[0].Cert)
}

// A mesh deleted and created again under the same name is another mesh: it gets a new root,
// even though nobody deleted the first one's, on this manager (which cached the first one) and
// on another one sharing the store. The same mesh keeps its root.
func TestRecreatedMeshGetsANewRoot(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	a, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	b, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	first := time.Now().Add(-time.Hour)
	old := rootOf(t, a, createdAt(meshWith("default", builtin("ca-1", nil)), first))
	assert.Equal(t, old, rootOf(t, b, createdAt(meshWith("default", builtin("ca-1", nil)), first)), "one mesh, one root")
	_, err = a.For(ctx, createdAt(meshWith("default", builtin("ca-1", nil)), first))
	require.NoError(t, err)

	again := time.Now()
	fresh := rootOf(t, b, createdAt(meshWith("default", builtin("ca-1", nil)), again))
	assert.NotEqual(t, old, fresh, "a re-created mesh has a new root")
	assert.Equal(t, fresh, rootOf(t, a, createdAt(meshWith("default", builtin("ca-1", nil)), again)))
	authority, err := a.For(ctx, createdAt(meshWith("default", builtin("ca-1", nil)), again))
	require.NoError(t, err)
	bundle, err := authority.Bundle(ctx)
	require.NoError(t, err)
	require.Len(t, bundle.X509Authorities(), 1)
	assert.Equal(t, fresh, ca.Fingerprint(bundle.X509Authorities()[0]), "the cached authority of the first mesh is not reused")

	raw, _, err := st.GetState(ctx, "ca/default/ca-1")
	require.NoError(t, err)
	var state struct {
		MeshCreated time.Time `json:"meshCreated"`
	}
	require.NoError(t, json.Unmarshal(raw, &state))
	assert.True(t, state.MeshCreated.Equal(again.UTC()), "the root records the mesh it belongs to")
}

// Roots stored before incarnations were recorded stay with the mesh they were made for, and are
// claimed for it; a mesh created after such a root gets a new one.
func TestLegacyRoots(t *testing.T) {
	st := openStore(t, t.TempDir())
	m, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	// No creation time: written as earlier versions wrote roots.
	legacy := rootOf(t, m, meshWith("kept", builtin("ca-1", nil)))
	other := rootOf(t, m, meshWith("replaced", builtin("ca-1", nil)))

	m, err = ca.New(st, ca.Options{})
	require.NoError(t, err)
	assert.Equal(t, legacy, rootOf(t, m, createdAt(meshWith("kept", builtin("ca-1", nil)), time.Now().Add(-24*time.Hour))))
	assert.NotEqual(t, other, rootOf(t, m, createdAt(meshWith("replaced", builtin("ca-1", nil)), time.Now().Add(time.Hour))))
}

// DeleteMesh deletes the roots of the named builtin backends and the retiring roots of a mesh
// incarnation, and spares a later mesh's root.
func TestDeleteMesh(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	m, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	first := time.Now().Add(-time.Hour)
	mesh := createdAt(meshWith("default", builtin("ca-1", nil)), first)
	rootOf(t, m, mesh)
	roots, err := m.BackendRoots(ctx, mesh)
	require.NoError(t, err)
	_, err = m.SaveRetiring(ctx, "default", []ca.RetiringRoot{{Backend: "old", Cert: roots[0].Cert, Until: time.Now().Add(time.Hour)}}, 0)
	require.NoError(t, err)

	// Re-created, with a root of its own, before the first one was cleaned up.
	again := time.Now()
	fresh := rootOf(t, m, createdAt(meshWith("default", builtin("ca-1", nil)), again))
	deleted, err := m.DeleteMesh(ctx, "default", first, []string{"ca-1"})
	require.NoError(t, err)
	assert.Empty(t, deleted, "the later mesh's root is not the first one's")
	assert.Equal(t, fresh, rootOf(t, m, createdAt(meshWith("default", builtin("ca-1", nil)), again)))
	retiring, _, err := m.LoadRetiring(ctx, "default")
	require.NoError(t, err)
	assert.Empty(t, retiring)

	deleted, err = m.DeleteMesh(ctx, "default", again, []string{"ca-1", "never-existed"})
	require.NoError(t, err)
	assert.Equal(t, []string{"ca/default/ca-1"}, deleted)
	_, _, err = st.GetState(ctx, "ca/default/ca-1")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = m.DeleteMesh(ctx, "default", again, []string{"ca-1"})
	require.NoError(t, err, "deleting again is fine")
}
