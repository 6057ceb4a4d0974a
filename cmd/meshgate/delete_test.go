package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDelete(t *testing.T) {
	api := startAPI(t)
	dir := t.TempDir()
	writeFile(t, dir, "m.yaml", "type: Mesh\nname: team-a\n---\ntype: Secret\nmesh: team-a\nname: s\ndata: aGk=\n")
	_, stderr, code := runCLI(t, "apply", "-f", dir)
	require.Equal(t, 0, code, stderr)

	out, stderr, code := runCLI(t, "delete", "mesh", "team-a")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, "Secret team-a/s: mesh: still in mesh \"team-a\"\nerror: mesh \"team-a\" still holds 1 resource; delete them first\n", stderr)

	out, stderr, code = runCLI(t, "delete", "secret", "s", "--mesh", "team-a")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Secret team-a/s deleted\n", out)
	out, stderr, code = runCLI(t, "delete", "meshes", "team-a")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Mesh team-a deleted\n", out)
	assert.Empty(t, api.records(t))

	_, stderr, code = runCLI(t, "delete", "secret", "s", "--mesh", "team-a")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `error: mesh "team-a" not found`)
}
