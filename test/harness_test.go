// Package test holds end-to-end tests: they start the real control plane on 127.0.0.1:0 and
// talk to it as users and Envoy do — the HTTP API, ADS streams, the CLI binary.
package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/controlplane"
)

// runningCP is a control plane started for one test.
type runningCP struct {
	addrs controlplane.Addrs
	// caPEM is what clients trust to verify the control plane (xDS and the HTTPS API).
	caPEM []byte
	stop  func()
}

// startCP starts a control plane on loopback with its store in dataDir and waits until it is
// ready. The returned stop waits for a clean shutdown.
func startCP(t *testing.T, dataDir string, mutate ...func(*controlplane.Config)) *runningCP {
	t.Helper()
	cfg := controlplane.DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress, cfg.APITLSAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir = dataDir
	cfg.Debounce = 20 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, m := range mutate {
		m(&cfg)
	}
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
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Fatal("control plane did not stop within 15s")
		}
	}
	t.Cleanup(stop)
	r := &runningCP{addrs: cp.Addrs(), caPEM: cp.ControlPlaneCA(), stop: stop}
	if !cfg.TLS.XDSInsecure {
		xdsCAs.Store(r.addrs.XDS, r.caPEM)
		t.Cleanup(func() { xdsCAs.Delete(r.addrs.XDS) })
	}
	return r
}

// call sends one API request and returns status and body.
func (c *runningCP) call(t *testing.T, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+c.addrs.API+path, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

// tokenFor issues a dataplane token through the API, as `meshgate token dataplane` does.
func tokenFor(t *testing.T, cp *runningCP, mesh, name string) string {
	t.Helper()
	return tokenValidFor(t, cp, mesh, name, "")
}

func tokenValidFor(t *testing.T, cp *runningCP, mesh, name, validFor string) string {
	t.Helper()
	body, err := json.Marshal(map[string]string{"mesh": mesh, "name": name, "validFor": validFor})
	require.NoError(t, err)
	code, out := cp.call(t, http.MethodPost, "/tokens/dataplane", "application/json", body)
	require.Equal(t, http.StatusOK, code, string(out))
	return string(out)
}

// exampleYAML is every file of the README's example gateway, as one multi-document body.
func exampleYAML(t *testing.T) []byte {
	t.Helper()
	files, err := filepath.Glob("../examples/gateway/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(all, []byte("\n---\n")...)
		all = append(all, b...)
	}
	return all
}
