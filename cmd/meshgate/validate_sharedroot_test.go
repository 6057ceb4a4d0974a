package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs/certstest"
)

// Two meshes whose provided CA backends hold the same root: validate still passes, and warns,
// naming both meshes and backends with the file and line of each certificate reference.
func TestValidateWarnsOnSharedRoot(t *testing.T) {
	dir := t.TempDir()
	shared, own := certstest.NewRoot(t, "company root"), certstest.NewRoot(t, "own root")
	for name, root := range map[string]*certstest.CA{"shared": shared, "own": own} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pem"), root.CertPEM(), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".key"), root.KeyPEM(t), 0o600))
	}
	mesh := func(name, backend, root string) string {
		return fmt.Sprintf(`type: Mesh
name: %s
mtls:
  enabledBackend: %s
  backends:
  - name: %s
    type: provided
    conf:
      cert:
        file: %s
      key:
        file: %s
`, name, backend, backend, filepath.Join(dir, root+".pem"), filepath.Join(dir, root+".key"))
	}
	files := map[string]string{
		"team-a.yaml": mesh("team-a", "company", "shared"),
		"team-b.yaml": "# team b\n" + mesh("team-b", "corp-ca", "shared"),
		"team-c.yaml": mesh("team-c", "own", "own"),
	}
	meshes := filepath.Join(dir, "meshes")
	require.NoError(t, os.Mkdir(meshes, 0o700))
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(meshes, name), []byte(body), 0o600))
	}

	out, stderr, code := runCLI(t, "validate", "-f", meshes)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ok\n", out)
	a, b := filepath.Join(meshes, "team-a.yaml"), filepath.Join(meshes, "team-b.yaml")
	assert.Contains(t, stderr, "warning: "+a+`:9: Mesh team-a: mtls.backends[0].conf.cert: provided backend "company" `+
		`trusts the same root CA as Mesh team-b backend "corp-ca" (`+b+`:10): "CN=company root,O=meshgate test"`)
	assert.NotContains(t, stderr, "Mesh team-c")

	// Its own root each: nothing to say.
	require.NoError(t, os.Remove(filepath.Join(meshes, "team-b.yaml")))
	_, stderr, code = runCLI(t, "validate", "-f", meshes)
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "same root")
}
