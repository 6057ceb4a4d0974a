package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// The printed permission is model.AllowAllPermission, loads as a valid resource, and turns an
// mTLS mesh's deny-all warning off.
func TestMeshAllowAll(t *testing.T) {
	out, stderr, code := runCLI(t, "mesh", "allow-all", "--mesh", "shop")
	require.Equal(t, 0, code, stderr)
	objs, errs := api.Decode("allow-all.yaml", []byte(out))
	require.Empty(t, errs)
	require.Len(t, objs, 1)
	tp, ok := objs[0].(*api.TrafficPermission)
	require.True(t, ok)
	want := model.AllowAllPermission("shop")
	assert.Equal(t, want.Mesh, tp.Mesh)
	assert.Equal(t, want.Name, tp.Name)
	assert.Equal(t, want.Spec, tp.Spec)

	dir := t.TempDir()
	mesh := []byte("type: Mesh\nname: shop\nmtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mesh.yaml"), mesh, 0o644))
	_, stderr, code = runCLI(t, "validate", "-f", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, `warning: mesh "shop" has mTLS and no TrafficPermission: every inbound denies all traffic`)
	assert.Contains(t, stderr, "meshgate mesh allow-all --mesh shop")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "allow-all.yaml"), []byte(out), 0o644))
	out, stderr, code = runCLI(t, "validate", "-f", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ok\n", out)
	assert.Empty(t, stderr)

	_, stderr, code = runCLI(t, "mesh", "allow-all", "--mesh", "Not A Mesh")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `error: --mesh "Not A Mesh" is not a valid mesh name`)
	_, stderr, code = runCLI(t, "mesh", "allow-all")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `required flag(s) "mesh" not set`)
}

// --apply creates the permission through the API (and is idempotent); a mesh the control
// plane does not have is the server's error.
func TestMeshAllowAllApply(t *testing.T) {
	a := startAPI(t)
	out, stderr, code := runCLI(t, "apply", "-f", "../../examples/crossmesh")
	require.Equal(t, 0, code, stderr+out)

	out, stderr, code = runCLI(t, "mesh", "allow-all", "--mesh", "shop", "--apply")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "TrafficPermission shop/allow-all-shop created\n", out)
	out, stderr, code = runCLI(t, "mesh", "allow-all", "--mesh", "shop", "--apply")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "TrafficPermission shop/allow-all-shop unchanged\n", out)

	out, stderr, code = runCLI(t, "get", "trafficpermission", "allow-all-shop", "--mesh", "shop", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var got struct {
		Sources []api.Selector `json:"sources"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, []api.Selector{{Match: map[string]string{api.ServiceTag: "*"}}}, got.Sources)

	n := len(a.records(t))
	_, stderr, code = runCLI(t, "mesh", "allow-all", "--mesh", "nowhere", "--apply")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `mesh "nowhere" does not exist`)
	assert.Len(t, a.records(t), n, "nothing written")
}
