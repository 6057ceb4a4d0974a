package controlplane

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const gatewayYAML = `
type: Dataplane
mesh: default
name: gw
networking:
  address: 127.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}
`

const routeYAML = `
type: MeshGatewayRoute
mesh: default
name: r
selectors: [{match: {kuma.io/service: gw}}]
conf: {http: {rules: [{matches: [{path: {match: PREFIX, value: /}}], backends: [{destination: {kuma.io/service: app}}]}]}}
`

func keys(t *testing.T, s store.Store) []string {
	t.Helper()
	snap, err := s.All(context.Background())
	require.NoError(t, err)
	var out []string
	for _, r := range snap.Records {
		out = append(out, r.Kind+"/"+r.Name)
	}
	return out
}

// A valid directory is applied whole; an invalid edit changes nothing; a removed file removes
// what it defined, and only that.
func TestFileSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	f := &fileSync{dir: dir, store: s, log: quietLogger()}
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("gw.yaml", gatewayYAML)
	write("route.yaml", routeYAML)
	require.NoError(t, f.sync(ctx))
	assert.ElementsMatch(t, []string{"Dataplane/gw", "MeshGatewayRoute/r"}, keys(t, s))
	before, err := s.All(ctx)
	require.NoError(t, err)

	// Syncing an unchanged directory writes nothing.
	require.NoError(t, f.sync(ctx))
	again, err := s.All(ctx)
	require.NoError(t, err)
	assert.Equal(t, before.Revision, again.Revision)

	write("route.yaml", strings.Replace(routeYAML, "value: /", "value: api", 1))
	err = f.sync(ctx)
	require.ErrorContains(t, err, "route.yaml:6: MeshGatewayRoute default/r: conf.http.rules[0].matches[0].path.value: must be an absolute path")
	after, err := s.All(ctx)
	require.NoError(t, err)
	assert.Equal(t, before.Revision, after.Revision, "a rejected directory must change nothing")

	// A resource created through the API survives the file sync that removes file resources.
	_, err = s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: store.Key{Kind: "Secret", Mesh: "default", Name: "api-made"},
		Spec: []byte(`{"type":"Secret","mesh":"default","name":"api-made","data":"YQ=="}`), Origin: "api"}}})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "route.yaml")))
	require.NoError(t, f.sync(ctx))
	assert.ElementsMatch(t, []string{"Dataplane/gw", "Secret/api-made"}, keys(t, s))
}

// The watcher picks up an edit without a restart.
func TestFileWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	s, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	f := &fileSync{dir: dir, store: s, log: quietLogger()}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gw.yaml"), []byte(gatewayYAML), 0o644))
	require.NoError(t, f.sync(ctx))
	done := make(chan error, 1)
	go func() { done <- f.watch(ctx, 10*time.Millisecond) }()
	require.Eventually(t, func() bool {
		// The watch starts asynchronously; rewrite until it has seen a change.
		_ = os.WriteFile(filepath.Join(dir, "route.yaml"), []byte(routeYAML), 0o644)
		return len(keys(t, s)) == 2
	}, 5*time.Second, 50*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

// Diagnostics answer /healthz at once and /ready only after the first build; /metrics carries
// the xDS, store and generation metrics.
func TestDiagnostics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir, cfg.Logger = t.TempDir(), quietLogger()
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	<-cp.Ready()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + cp.Addrs().Diag + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	assert.Equal(t, 200, code)
	code, _ = get("/ready")
	assert.Equal(t, 200, code)
	code, body := get("/metrics")
	assert.Equal(t, 200, code)
	for _, m := range []string{"meshgate_xds_generation_seconds_count 1", `meshgate_store_operation_seconds_count{op="all",result="ok"}`} {
		assert.True(t, strings.Contains(body, m), "metric %s missing", m)
	}
	cancel()
	require.NoError(t, <-done)
}
