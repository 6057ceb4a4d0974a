package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// `get secret` prints "<redacted>" for the data; --reveal prints it, as YAML by default, and
// what it prints applies back unchanged.
func TestGetSecretReveal(t *testing.T) {
	startAPI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.yaml")
	require.NoError(t, os.WriteFile(file, []byte("type: Secret\nmesh: default\nname: tls\ndata: aGVsbG8=\n"), 0o600))
	_, stderr, code := runCLI(t, "apply", "-f", file)
	require.Equal(t, 0, code, stderr)

	for _, args := range [][]string{
		{"get", "secret", "tls", "-o", "yaml"},
		{"get", "secret", "tls", "-o", "json"},
		{"get", "secrets", "-o", "yaml"},
		{"get", "secrets", "-A", "-o", "json"},
	} {
		out, stderr, code := runCLI(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.NotContains(t, out, "aGVsbG8=", args)
		assert.Contains(t, out, "<redacted>", args)
	}

	out, stderr, code := runCLI(t, "get", "secret", "tls", "--reveal")
	require.Equal(t, 0, code, stderr)
	objs, errs := api.Decode("out.yaml", []byte(out))
	require.Empty(t, errs, out)
	require.Len(t, objs, 1)
	assert.Equal(t, "aGVsbG8=", objs[0].(*api.Secret).Spec.Data)

	revealed := filepath.Join(dir, "revealed.yaml")
	require.NoError(t, os.WriteFile(revealed, []byte(out), 0o600))
	out, stderr, code = runCLI(t, "apply", "-f", revealed)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "unchanged")

	out, stderr, code = runCLI(t, "get", "secrets", "--reveal", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, "aGVsbG8=", list.Items[0]["data"])

	// A redacted read saved and applied is refused with the reason, locally or by the server.
	out, _, code = runCLI(t, "get", "secret", "tls", "-o", "yaml")
	require.Equal(t, 0, code)
	redacted := filepath.Join(dir, "redacted.yaml")
	require.NoError(t, os.WriteFile(redacted, []byte(out), 0o600))
	_, stderr, code = runCLI(t, "apply", "-f", redacted)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "data")
}
