package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApply(t *testing.T) {
	api := startAPI(t)
	out, stderr, code := runCLI(t, "apply", "-f", example)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, `Dataplane default/gateway-instance-1 created
MeshGateway default/edge-gateway created
MeshGatewayRoute default/frontend-route created
MeshGatewayRoute default/api-route created
Dataplane default/frontend-1 created
Dataplane default/api-1 created
`, out)
	assert.Len(t, api.records(t), 6)

	out, _, code = runCLI(t, "apply", "-f", filepath.Join(example, "gateway.yaml"))
	require.Equal(t, 0, code)
	assert.Equal(t, "Dataplane default/gateway-instance-1 unchanged\nMeshGateway default/edge-gateway unchanged\n", out)

	dir := t.TempDir()
	gw, err := os.ReadFile(filepath.Join(example, "gateway.yaml"))
	require.NoError(t, err)
	changed := append(gw, []byte("    - port: 8081\n      protocol: HTTP\n")...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gw.yaml"), changed, 0o644))
	out, stderr, code = runCLI(t, "apply", "-f", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Dataplane default/gateway-instance-1 unchanged\nMeshGateway default/edge-gateway configured\n", out)
}

// Invalid files are reported with file and line, and nothing reaches the server.
func TestApplyValidatesLocally(t *testing.T) {
	api := startAPI(t)
	out, stderr, code := runCLI(t, "apply", "-f", example, "-f", "../../examples/broken")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, `../../examples/broken/route.yaml:14: MeshGatewayRoute default/broken-route: conf.http.rules[0].matches[0].path.value: must be an absolute path
../../examples/broken/route.yaml:18: MeshGatewayRoute default/broken-route: conf.http.rules[0].filters[0].redirect.statusCode: must be one of 301, 302, 303, 307, 308
error: validation failed
`, stderr)
	assert.Empty(t, api.records(t))
}

// What only the server can check (the mesh exists) is reported at the file and line too, and
// the transaction leaves the store unchanged.
func TestApplyServerErrorsPointAtFiles(t *testing.T) {
	api := startAPI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "res.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`type: Secret
name: fine
data: aGk=
---
type: Secret
mesh: team-a
name: orphan
data: aGk=
`), 0o644))
	out, stderr, code := runCLI(t, "apply", "-f", file)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, file+`:6: Secret team-a/orphan: mesh: mesh "team-a" does not exist
error: Resource is not valid
`, stderr)
	assert.Empty(t, api.records(t))
}
