package controlplane

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs/certstest"
)

// A provided CA whose certificate and key are files: replacing the files changes the mesh's
// bundle (GET /meshes/{mesh}/bundle) without any change to the Mesh.
func TestProvidedCAFilesReloadedOnChange(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	write := func(root *certstest.CA) {
		// Written next to the target and renamed over it, as renewal tools do, so that no
		// check sees half a file.
		for path, b := range map[string][]byte{certFile: root.CertPEM(), keyFile: root.KeyPEM(t)} {
			require.NoError(t, os.WriteFile(path+".tmp", b, 0o600))
			require.NoError(t, os.Rename(path+".tmp", path))
		}
	}
	first, second := certstest.NewRoot(t, "first root"), certstest.NewRoot(t, "second root")
	write(first)

	api := startCASourcesCP(t, quietLogger())
	etag := putFileMesh(t, api, "files", "ca-1", certFile, keyFile)

	roots := func() []*x509.Certificate {
		resp, err := http.Get(api + "/meshes/files/bundle")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		b, err := spiffebundle.Parse(spiffeid.RequireTrustDomainFromString("files"), body)
		require.NoError(t, err)
		return b.X509Authorities()
	}
	servesOnly := func(root *certstest.CA) func() bool {
		return func() bool {
			got := roots()
			return len(got) == 1 && got[0].Equal(root.Cert)
		}
	}
	require.Eventually(t, servesOnly(first), 5*time.Second, 20*time.Millisecond, "the first root is served")

	write(second)
	require.Eventually(t, servesOnly(second), 5*time.Second, 20*time.Millisecond,
		"the new root is served without a change to the Mesh")

	resp, err := http.Get(api + "/meshes/files")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, etag, resp.Header.Get("ETag"), "the Mesh was not touched")
}

// startCASourcesCP runs a control plane on loopback that checks CA sources every 50 ms, and
// returns its API's URL.
func startCASourcesCP(t *testing.T, log *slog.Logger) string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir, cfg.Logger = t.TempDir(), log
	cfg.Debounce = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := New(ctx, cfg)
	require.NoError(t, err)
	cp.rec.caSourcePoll = 50 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-cp.Ready():
	case err := <-done:
		t.Fatalf("control plane stopped before ready: %v", err)
	}
	return "http://" + cp.Addrs().API
}

// putFileMesh creates a Mesh whose provided backend reads its CA from files, and returns its
// ETag.
func putFileMesh(t *testing.T, api, name, backend, certFile, keyFile string) string {
	t.Helper()
	mesh := "type: Mesh\nname: " + name + "\nmtls:\n  enabledBackend: " + backend + "\n  backends:\n  - name: " + backend +
		"\n    type: provided\n    conf:\n      cert: {file: " + certFile + "}\n      key: {file: " + keyFile + "}\n"
	req, err := http.NewRequest(http.MethodPut, api+"/meshes/"+name, strings.NewReader(mesh))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	return resp.Header.Get("ETag")
}

// syncBuffer is a log sink the control plane's goroutines write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The control plane logs what `meshgate validate` warns of: two meshes trusting one root. Once,
// not at every rebuild.
func TestSharedRootLogged(t *testing.T) {
	dir := t.TempDir()
	root := certstest.NewRoot(t, "company root")
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	require.NoError(t, os.WriteFile(certFile, root.CertPEM(), 0o600))
	require.NoError(t, os.WriteFile(keyFile, root.KeyPEM(t), 0o600))
	var logs syncBuffer
	api := startCASourcesCP(t, slog.New(slog.NewTextHandler(&logs, nil)))

	putFileMesh(t, api, "team-a", "company", certFile, keyFile)
	time.Sleep(200 * time.Millisecond) // a few checks with one mesh: nothing to say
	assert.NotContains(t, logs.String(), "same root")
	putFileMesh(t, api, "team-b", "corp-ca", certFile, keyFile)
	want := `Mesh team-a: mtls.backends[0].conf.cert: provided backend \"company\" trusts the same root CA as Mesh team-b backend \"corp-ca\": \"CN=company root,O=meshgate test\"`
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), want) }, 5*time.Second, 20*time.Millisecond, logs.String())
	putFileMesh(t, api, "team-c", "own", certFile+".missing", keyFile)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, 1, strings.Count(logs.String(), "trusts the same root CA"), "said once: %s", logs.String())
}
