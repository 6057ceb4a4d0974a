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

// stored writes the Mesh to the store, and returns it as the control plane sees it: with the
// store's creation time, its incarnation.
func stored(t *testing.T, st store.Store, m *api.Mesh) *api.Mesh {
	t.Helper()
	ctx := context.Background()
	spec, err := api.Encode(m)
	require.NoError(t, err)
	key := store.Key{Kind: string(api.KindMesh), Name: m.Name}
	_, err = st.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: key, Spec: spec}}})
	require.NoError(t, err)
	rec, err := st.Get(ctx, key)
	require.NoError(t, err)
	m.CreationTime = rec.CreationTime
	return m
}

func unstore(t *testing.T, st store.Store, name string) {
	t.Helper()
	_, err := st.Apply(context.Background(), store.ApplyRequest{Deletes: []store.Delete{{Key: store.Key{Kind: string(api.KindMesh), Name: name}}}})
	require.NoError(t, err)
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
	first := stored(t, st, meshWith("default", builtin("ca-1", nil)))
	old := rootOf(t, a, first)
	assert.Equal(t, old, rootOf(t, b, first), "one mesh, one root")
	_, err = a.For(ctx, first)
	require.NoError(t, err)

	// Deleted, and cleaned up; a caller still holding the first mesh gets no new root for it.
	unstore(t, st, "default")
	_, err = b.DeleteMesh(ctx, "default", first.CreationTime, []string{"ca-1"})
	require.NoError(t, err)
	_, err = b.BackendRoots(ctx, first)
	require.ErrorContains(t, err, `mesh "default" no longer exists`, "no root is created for a deleted mesh")
	_, _, err = st.GetState(ctx, "ca/default/ca-1")
	require.ErrorIs(t, err, store.ErrNotFound)

	again := stored(t, st, meshWith("default", builtin("ca-1", nil)))
	fresh := rootOf(t, b, again)
	assert.NotEqual(t, old, fresh, "a re-created mesh has a new root")
	assert.Equal(t, fresh, rootOf(t, a, again))
	authority, err := a.For(ctx, again)
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
	assert.True(t, state.MeshCreated.Equal(again.CreationTime), "the root records the mesh it belongs to")
}

// Roots stored before incarnations were recorded stay with the mesh they were made for, and are
// claimed for it; a mesh created well after such a root gets a new one.
func TestLegacyRoots(t *testing.T) {
	st := openStore(t, t.TempDir())
	kept := stored(t, st, meshWith("kept", builtin("ca-1", nil)))
	// No creation time: written as earlier versions wrote roots, one of them an hour ago.
	m, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	legacy := rootOf(t, m, meshWith("kept", builtin("ca-1", nil)))
	past, err := ca.New(st, ca.Options{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	require.NoError(t, err)
	other := rootOf(t, past, meshWith("replaced", builtin("ca-1", nil)))

	m, err = ca.New(st, ca.Options{})
	require.NoError(t, err)
	assert.Equal(t, legacy, rootOf(t, m, kept))
	assert.NotEqual(t, other, rootOf(t, m, stored(t, st, meshWith("replaced", builtin("ca-1", nil)))))
}

// DeleteMesh deletes the roots of the named builtin backends and the retiring roots of a mesh
// incarnation, and spares a later mesh's root.
func TestDeleteMesh(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	m, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	mesh := stored(t, st, meshWith("default", builtin("ca-1", nil)))
	first := mesh.CreationTime
	rootOf(t, m, mesh)
	roots, err := m.BackendRoots(ctx, mesh)
	require.NoError(t, err)
	_, err = m.SaveRetiring(ctx, "default", []ca.RetiringRoot{{Backend: "old", Cert: roots[0].Cert, Until: time.Now().Add(time.Hour)}}, 0)
	require.NoError(t, err)

	// Re-created, with a root of its own, before the first one was cleaned up.
	unstore(t, st, "default")
	again := stored(t, st, meshWith("default", builtin("ca-1", nil)))
	fresh := rootOf(t, m, again)
	deleted, err := m.DeleteMesh(ctx, "default", first, []string{"ca-1"})
	require.NoError(t, err)
	assert.Empty(t, deleted, "the later mesh's root is not the first one's")
	assert.Equal(t, fresh, rootOf(t, m, again))
	retiring, _, err := m.LoadRetiring(ctx, "default")
	require.NoError(t, err)
	assert.Empty(t, retiring)

	deleted, err = m.DeleteMesh(ctx, "default", again.CreationTime, []string{"ca-1", "never-existed"})
	require.NoError(t, err)
	assert.Equal(t, []string{"ca/default/ca-1"}, deleted)
	_, _, err = st.GetState(ctx, "ca/default/ca-1")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = m.DeleteMesh(ctx, "default", again.CreationTime, []string{"ca-1"})
	require.NoError(t, err, "deleting again is fine")
}
