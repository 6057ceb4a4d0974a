package controlplane

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

const bundleMeshesYAML = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: other
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: plain
---
type: Dataplane
mesh: default
name: gw
networking:
  address: 127.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}
`

func decodeTestModel(t *testing.T, yaml string) *model.Model {
	t.Helper()
	objs, errs := api.Decode("test.yaml", []byte(yaml))
	require.Empty(t, errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)
	return m
}

// Every mTLS mesh's bundle is handed to the build once a cross-mesh listener exists, and it is
// the same bundle the mesh's own dataplanes are given; without one no CA is touched.
func TestMeshBundles(t *testing.T) {
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()))
	ctx := context.Background()

	plain := decodeTestModel(t, bundleMeshesYAML)
	ids.SetModel(plain)
	assert.Nil(t, meshBundles(ctx, ids, plain, quietLogger()))

	m := decodeTestModel(t, bundleMeshesYAML+`
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 8080, protocol: HTTP, crossMesh: true}]}
`)
	ids.SetModel(m)
	bundles := meshBundles(ctx, ids, m, quietLogger())
	require.Len(t, bundles, 2)
	assert.NotEqual(t, bundles["default"], bundles["other"], "each mesh has its own CA")
	assert.NotContains(t, bundles, "plain")

	id, _, err := dataplaneIdentity(ctx, ids, m.Mesh("default"), m.Mesh("default").Dataplane("gw"))
	require.NoError(t, err)
	assert.Equal(t, id.TrustBundle, bundles["default"])
}
