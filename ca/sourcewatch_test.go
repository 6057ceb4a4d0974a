package ca_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs/certstest"
)

func writeCA(t *testing.T, dir string, root *certstest.CA) (certFile, keyFile string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	require.NoError(t, os.WriteFile(certFile, root.CertPEM(), 0o600))
	require.NoError(t, os.WriteFile(keyFile, root.KeyPEM(t), 0o600))
	return certFile, keyFile
}

// A provided CA read from files is reloaded when the files change, and only then: touching a
// file, or rewriting it with the same bytes, reloads nothing; a half-done replacement (new
// certificate, old key) fails to load and the next change completes it; a file that vanishes
// is not a change.
func TestProvidedFilesReloadOnChange(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, second := certstest.NewRoot(t, "first root"), certstest.NewRoot(t, "second root")
	certFile, keyFile := writeCA(t, dir, first)
	m := newManager(t, ca.Options{})
	mesh := meshWith("default", provided("ca-1", map[string]any{"file": certFile}, map[string]any{"file": keyFile}))
	inline := meshWith("other", provided("ca-1", inlineString(first.CertPEM()), inlineString(first.KeyPEM(t))))

	rootNow := func() string {
		t.Helper()
		a, err := m.For(ctx, mesh)
		require.NoError(t, err)
		roots := bundleOf(t, a).X509Authorities()
		require.Len(t, roots, 1)
		return roots[0].Subject.CommonName
	}
	assert.Equal(t, "first root", rootNow())
	_, err := m.For(ctx, inline)
	require.NoError(t, err)
	assert.Empty(t, m.ReloadChanged(ctx))

	// Same bytes, new times.
	require.NoError(t, os.WriteFile(certFile, first.CertPEM(), 0o600))
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(keyFile, later, later))
	assert.Empty(t, m.ReloadChanged(ctx))
	assert.Equal(t, "first root", rootNow())

	// The certificate first: the pair does not match until the key follows.
	require.NoError(t, os.WriteFile(certFile, second.CertPEM(), 0o600))
	assert.Equal(t, []ca.SourceChange{{Mesh: "default", Sources: []string{"file " + certFile}}}, m.ReloadChanged(ctx))
	_, err = m.For(ctx, mesh)
	require.ErrorIs(t, err, ca.ErrKeyMismatch)
	require.NoError(t, os.WriteFile(keyFile, second.KeyPEM(t), 0o600))
	assert.Equal(t, []ca.SourceChange{{Mesh: "default", Sources: []string{"file " + keyFile}}}, m.ReloadChanged(ctx))
	assert.Equal(t, "second root", rootNow())
	assert.Empty(t, m.ReloadChanged(ctx), "each change is reported once")

	// Replaced by delete-then-create: nothing while it is gone, a change once it is back.
	require.NoError(t, os.Remove(certFile))
	require.NoError(t, os.Remove(keyFile))
	assert.Empty(t, m.ReloadChanged(ctx))
	assert.Equal(t, "second root", rootNow(), "the loaded CA stays")
	writeCA(t, dir, first)
	changes := m.ReloadChanged(ctx)
	require.Len(t, changes, 1)
	assert.Equal(t, []string{"file " + keyFile, "file " + certFile}, changes[0].Sources, "sorted")
	assert.Equal(t, "first root", rootNow())
}

// Kubernetes updates a Secret volume by swapping a symlink to a new directory; the path the
// Mesh names never changes.
func TestProvidedFilesReloadOnSymlinkSwap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, second := certstest.NewRoot(t, "first root"), certstest.NewRoot(t, "second root")
	writeCA(t, filepath.Join(dir, "..v1"), first)
	writeCA(t, filepath.Join(dir, "..v2"), second)
	require.NoError(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	mesh := meshWith("default", provided("ca-1",
		map[string]any{"file": filepath.Join(dir, "..data", "ca.pem")}, map[string]any{"file": filepath.Join(dir, "..data", "ca.key")}))
	m := newManager(t, ca.Options{})
	a, err := m.For(ctx, mesh)
	require.NoError(t, err)
	assert.True(t, bundleOf(t, a).X509Authorities()[0].Equal(first.Cert))

	tmp := filepath.Join(dir, "..data_tmp")
	require.NoError(t, os.Symlink("..v2", tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data")))
	require.Len(t, m.ReloadChanged(ctx), 1)
	a, err = m.For(ctx, mesh)
	require.NoError(t, err)
	assert.True(t, bundleOf(t, a).X509Authorities()[0].Equal(second.Cert))
}

// A provided CA read from mesh Secrets is reloaded when a Secret's content changes.
func TestProvidedSecretsReloadOnChange(t *testing.T) {
	ctx := context.Background()
	first, second := certstest.NewRoot(t, "first root"), certstest.NewRoot(t, "second root")
	var mu sync.Mutex
	secrets := map[string][]byte{"ca-cert": first.CertPEM(), "ca-key": first.KeyPEM(t)}
	m := newManager(t, ca.Options{Secrets: func(_ context.Context, _, name string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := secrets[name]; ok {
			return b, nil
		}
		return nil, errors.New("no such secret")
	}})
	mesh := meshWith("default", provided("ca-1", map[string]any{"secret": "ca-cert"}, map[string]any{"secret": "ca-key"}))
	_, err := m.For(ctx, mesh)
	require.NoError(t, err)
	assert.Empty(t, m.ReloadChanged(ctx))

	mu.Lock()
	secrets["ca-cert"], secrets["ca-key"] = second.CertPEM(), second.KeyPEM(t)
	mu.Unlock()
	assert.Equal(t, []ca.SourceChange{{Mesh: "default", Sources: []string{"secret ca-cert", "secret ca-key"}}}, m.ReloadChanged(ctx))
	a, err := m.For(ctx, mesh)
	require.NoError(t, err)
	assert.True(t, bundleOf(t, a).X509Authorities()[0].Equal(second.Cert))
	assert.Empty(t, m.ReloadChanged(ctx))
}
