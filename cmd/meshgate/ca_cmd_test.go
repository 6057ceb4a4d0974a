package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCABundle(t *testing.T) {
	startControlPlane(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mesh.yaml"), []byte(`
type: Mesh
name: secure
mtls:
  enabledBackend: ca-1
  backends: [{name: ca-1, type: builtin}]
`), 0o644))
	_, stderr, code := runCLI(t, "apply", "-f", dir)
	require.Equal(t, 0, code, stderr)

	// The reconciler loads the mesh's CA after the apply; the bundle appears with it.
	var out string
	require.Eventually(t, func() bool {
		out, stderr, code = runCLI(t, "ca", "bundle", "--mesh", "secure")
		return code == 0
	}, 5*time.Second, 50*time.Millisecond, "ca bundle: %s", stderr)
	block, rest := pem.Decode([]byte(out))
	require.NotNil(t, block)
	assert.Empty(t, rest)
	root, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, root.IsCA)

	_, stderr, code = runCLI(t, "ca", "bundle", "--mesh", "default")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no mTLS")
}
