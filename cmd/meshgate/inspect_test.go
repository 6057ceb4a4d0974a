package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

func TestInspect(t *testing.T) {
	startAPI(t)
	_, stderr, code := runCLI(t, "apply", "-f", example)
	require.Equal(t, 0, code, stderr)

	out, stderr, code := runCLI(t, "inspect", "dataplane", "default/gateway-instance-1")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "dataplane: default/gateway-instance-1\nstream:\n  connected: false\n", out)
	out, _, code = runCLI(t, "inspect", "dataplanes", "default/gateway-instance-1", "-o", "json")
	require.Equal(t, 0, code)
	assert.JSONEq(t, `{"dataplane":"default/gateway-instance-1","stream":{"connected":false}}`, out)

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "dataplane", "default/nope"}, "error: Dataplane default/nope not found"},
		{[]string{"inspect", "dataplane", "nope"}, "want MESH/NAME"},
		{[]string{"inspect", "meshgateway", "default/edge-gateway"}, "only dataplanes can be inspected"},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, c.args...)
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, c.want)
	}
}
