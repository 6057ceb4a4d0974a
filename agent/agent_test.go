package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/controlplane"
)

const testResources = `
type: Mesh
name: alpha
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: alpha
name: web-1
networking:
  address: 127.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web}}]
`

// startControlPlane runs a control plane on loopback with the test's resources and returns
// its addresses, the CA of its serving certificate and a stop that waits for it.
func startControlPlane(t *testing.T) (controlplane.Addrs, []byte, func()) {
	t.Helper()
	cfg := controlplane.DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress, cfg.APITLSAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir = t.TempDir()
	cfg.Debounce = 20 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := controlplane.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	select {
	case <-cp.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("control plane stopped before ready: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("control plane not ready within 10s")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Error("control plane did not stop within 15s")
			}
		})
	}
	t.Cleanup(stop)
	return cp.Addrs(), cp.ControlPlaneCA(), stop
}

// lockedBuffer is a log sink the agent writes while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func socketDir(t *testing.T) string {
	t.Helper()
	// A unix socket path must fit in 108 bytes; t.TempDir's may not.
	dir, err := os.MkdirTemp("", "mg-agent-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// When the control plane goes away, the agent keeps serving the identity it has and leaves
// the files alone, retrying with backoff; streams opened before it stopped stay open.
func TestAgentKeepsItsIdentityWhileTheControlPlaneIsDown(t *testing.T) {
	addrs, caPEM, stopCP := startControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := client.New("http://"+addrs.API, "")
	require.NoError(t, err)
	_, err = admin.Apply(ctx, []byte(testResources))
	require.NoError(t, err)
	token, err := admin.DataplaneToken(ctx, "alpha", "web-1", time.Hour)
	require.NoError(t, err)
	src, err := client.New("https://"+addrs.APITLS, token)
	require.NoError(t, err)
	require.NoError(t, src.TrustCA(caPEM))

	dir := socketDir(t)
	socket, certDir := filepath.Join(dir, "agent.sock"), filepath.Join(dir, "certs")
	var logs lockedBuffer
	actx, stopAgent := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() {
		ran <- Run(actx, Config{Source: src, Socket: socket, CertDir: certDir, Refresh: 100 * time.Millisecond,
			MinRetry: 20 * time.Millisecond, MaxRetry: 100 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	defer func() {
		stopAgent()
		select {
		case err := <-ran:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("the agent did not stop within 10s")
		}
		_, err := os.Stat(socket)
		assert.True(t, os.IsNotExist(err), "the socket is removed when the agent stops: %v", err)
	}()

	addr := workloadapi.WithAddr("unix://" + socket)
	var before *workloadapi.X509Context
	require.Eventually(t, func() bool {
		fctx, done := context.WithTimeout(ctx, time.Second)
		defer done()
		before, err = workloadapi.FetchX509Context(fctx, addr)
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "no X509 context from the agent: %v; log:\n%s", err, &logs)
	require.Equal(t, "spiffe://alpha/web", before.DefaultSVID().ID.String())
	files := map[string][]byte{}
	for _, f := range []string{SVIDFile, SVIDKeyFile, BundleFile, BundleMapFile} {
		files[f], err = os.ReadFile(filepath.Join(certDir, f))
		require.NoError(t, err, f)
	}
	// A stream opened while the control plane is up.
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	wclient, err := workloadapi.New(wctx, addr)
	require.NoError(t, err)
	defer wclient.Close()

	stopCP()
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "cannot renew the identity") >= 5 },
		20*time.Second, 20*time.Millisecond, "the agent never retried; log:\n%s", &logs)
	for f, want := range files {
		got, err := os.ReadFile(filepath.Join(certDir, f))
		require.NoError(t, err, f)
		assert.Equal(t, string(want), string(got), "%s is kept while the control plane is away", f)
	}
	fctx, done := context.WithTimeout(ctx, 5*time.Second)
	defer done()
	after, err := wclient.FetchX509Context(fctx)
	require.NoError(t, err)
	assert.Equal(t, before.DefaultSVID().Certificates[0].Raw, after.DefaultSVID().Certificates[0].Raw, "the same SVID is still served")
}

// The socket path: a stale socket is replaced, a live one (another agent) and any other file
// are left alone with an error that says so.
func TestListenUnix(t *testing.T) {
	dir := socketDir(t)
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	l, err = listenUnix(stale)
	require.NoError(t, err, "a socket nobody serves is replaced")
	fi, err := os.Stat(stale)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	_, err = listenUnix(stale)
	assert.ErrorContains(t, err, "another agent is serving it")
	require.NoError(t, l.Close())

	regular := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(regular, []byte("keep me"), 0o600))
	_, err = listenUnix(regular)
	assert.ErrorContains(t, err, "not a socket")
	kept, err := os.ReadFile(regular)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(kept))
}
