package test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outagePostgres is a PostgreSQL of the test's own (it is stopped and started again), run by
// .ci/postgres.sh on its own state directory and port.
type outagePostgres struct {
	env []string
	url string
}

// startOutagePostgres skips only where the store tests skip (MESHGATE_SKIP_POSTGRES=1 without
// MESHGATE_TEST_POSTGRES); anywhere else a PostgreSQL that cannot be started fails the test.
func startOutagePostgres(t *testing.T) *outagePostgres {
	t.Helper()
	if os.Getenv("MESHGATE_TEST_POSTGRES") == "" && os.Getenv("MESHGATE_SKIP_POSTGRES") == "1" {
		t.Skip("MESHGATE_SKIP_POSTGRES=1: PostgreSQL tests skipped")
	}
	dir := t.TempDir()
	// The server runs as the postgres user when the test runs as root: it must reach its data.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	pg := &outagePostgres{env: append(os.Environ(), "MESHGATE_PG_STATE="+filepath.Join(dir, "pg"), "MESHGATE_PG_PORT="+strconv.Itoa(port))}
	t.Cleanup(func() { _, _ = pg.run("stop") })
	out, err := pg.run("start")
	require.NoError(t, err, "starting a private PostgreSQL: %s", out)
	pg.url = strings.TrimSpace(out)
	require.True(t, strings.HasPrefix(pg.url, "postgres://"), "postgres.sh start printed %q", out)
	return pg
}

// run runs a postgres.sh command; stdout is returned, stderr shows on failure.
func (pg *outagePostgres) run(cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "../.ci/postgres.sh", cmd)
	c.Env = pg.env
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

// startStoreCP runs the built binary on the store, with nothing loaded.
func startStoreCP(t *testing.T, storeURL string) *binaryCP {
	t.Helper()
	return launchBinaryCP(t, "--store", storeURL)
}

// readyStatus is /ready's status, 0 when it cannot be asked.
func readyStatus(cp *binaryCP) int {
	code, _, _ := readyAnswer(cp)
	return code
}

func readyAnswer(cp *binaryCP) (int, string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + cp.diag + "/ready")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// apiCall sends one request to the binary's API.
func apiCall(t *testing.T, cp *binaryCP, method, path, contentType string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+cp.api+path, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := http.Client{Timeout: 15 * time.Second}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// outageMesh is the example's mesh with mTLS on: dataplanes then also hold certificates, which
// must be served through the outage from memory as the rest is.
const outageMesh = `
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
`

// fetchWithSecrets is fetchAll, then the identity and trust secrets; it returns every version.
func fetchWithSecrets(t *testing.T, c *sotwClient) map[string]string {
	t.Helper()
	versions := fetchAll(t, c)
	names := []string{"identity_cert:secret:default", "mesh_ca:secret:default"}
	c.subscribe(resourcev3.SecretType, names...)
	sds := c.next(resourcev3.SecretType, wait)
	c.ack(sds, names...)
	require.Len(t, sds.Resources, 2, "identity and trust secrets")
	versions[resourcev3.SecretType] = sds.VersionInfo
	return versions
}

// stillOpenAndQuiet fails if the stream ends or receives anything within d.
func stillOpenAndQuiet(t *testing.T, c *sotwClient, d time.Duration) {
	t.Helper()
	require.Empty(t, c.held, "unexpected push")
	select {
	case resp, ok := <-c.recv:
		require.True(t, ok, "the stream ended during the store outage")
		t.Fatalf("unexpected push during the store outage: %s version %s", resp.TypeUrl, resp.VersionInfo)
	case <-time.After(d):
	}
}

// TestStoreOutage is issue 12's store outage: PostgreSQL stops for 10 s and starts again. The
// control plane keeps serving (the example gateway, in an mTLS mesh): a dataplane's stream stays open and quiet, the same dataplane
// connecting again and another known dataplane reconnecting get the versions they had; /ready
// says not ready naming the store, writes answer 503 saying why; when PostgreSQL is back the
// replica is ready again by itself, and a write succeeds and reaches the stream.
func TestStoreOutage(t *testing.T) {
	pg := startOutagePostgres(t)
	cp := startStoreCP(t, pg.url)
	code, _, body := apiCall(t, cp, http.MethodPost, "/apply", "application/yaml", append([]byte(outageMesh+"\n---\n"), exampleYAML(t)...))
	require.Equal(t, http.StatusOK, code, body)
	xdsCAs.Store(cp.xds, []byte(cp.cli(t, "ca", "control-plane")))
	t.Cleanup(func() { xdsCAs.Delete(cp.xds) })
	token := func(name string) string {
		code, _, out := apiCall(t, cp, http.MethodPost, "/tokens/dataplane", "application/json",
			[]byte(`{"mesh":"default","name":"`+name+`"}`))
		require.Equal(t, http.StatusOK, code, out)
		return out
	}
	gwToken, feToken := token("gateway-instance-1"), token("frontend-1")

	conn := dialADS(t, cp.xds)
	gw := newSotW(t, conn, gatewayNode, gwToken)
	before := fetchWithSecrets(t, gw)
	// A known dataplane that then disconnects: it will come back during the outage.
	fe := newSotW(t, conn, "default.frontend-1", feToken)
	fe.subscribe(resourcev3.ListenerType)
	feLDS := fe.next(resourcev3.ListenerType, wait)
	fe.ack(feLDS)
	fe.close()
	gw.quiet(quietWindow)

	out, err := pg.run("pause")
	require.NoError(t, err, "stopping PostgreSQL: %s", out)
	stopped := time.Now()

	// Not ready within a few seconds, saying why.
	var readyBody string
	require.Eventually(t, func() bool {
		var code int
		code, readyBody, _ = readyAnswer(cp)
		return code == http.StatusServiceUnavailable
	}, 6*time.Second, 100*time.Millisecond, "/ready still not 503 after the store stopped")
	t.Logf("not ready %s after PostgreSQL stopped: %s", time.Since(stopped).Round(10*time.Millisecond), strings.TrimSpace(readyBody))
	assert.Contains(t, readyBody, "the store postgres://postgres@127.0.0.1:")
	assert.Contains(t, readyBody, "is unreachable")
	assert.Equal(t, 0.0, metricValue(t, cp.metrics(t), "meshgate_store_up"))

	// A write fails cleanly: 503, a message that says so, and when to retry.
	code, header, body := apiCall(t, cp, http.MethodPut, "/meshes/default/meshgatewayroutes/api-route", "application/yaml", []byte(changedAPIRoute))
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Contains(t, body, "the store is unreachable")
	assert.Contains(t, body, "retry")
	assert.NotEmpty(t, header.Get("Retry-After"))

	// The same dataplane connecting again (a second stream, as Envoy's reconnect opens) gets
	// exactly the versions it has.
	again := newSotW(t, dialADS(t, cp.xds), gatewayNode, gwToken)
	assert.Equal(t, before, fetchWithSecrets(t, again), "versions served during the outage")
	again.close()
	// A known dataplane with no stream left is rendered again from memory.
	fe2 := newSotW(t, conn, "default.frontend-1", feToken)
	fe2.subscribe(resourcev3.ListenerType)
	assert.Equal(t, feLDS.VersionInfo, fe2.next(resourcev3.ListenerType, wait).VersionInfo, "reconnected dataplane's listeners")

	// The first stream stays open and hears nothing for the rest of the 10 s.
	stillOpenAndQuiet(t, gw, time.Until(stopped.Add(10*time.Second)))

	out, err = pg.run("resume")
	require.NoError(t, err, "starting PostgreSQL again: %s", out)
	resumed := time.Now()
	require.Eventually(t, func() bool { return readyStatus(cp) == http.StatusOK }, 10*time.Second, 100*time.Millisecond,
		"/ready did not come back by itself after the store returned")
	t.Logf("outage %s; ready again %s after PostgreSQL started", resumed.Sub(stopped).Round(10*time.Millisecond),
		time.Since(resumed).Round(10*time.Millisecond))
	assert.Equal(t, 1.0, metricValue(t, cp.metrics(t), "meshgate_store_up"))

	code, _, body = apiCall(t, cp, http.MethodPut, "/meshes/default/meshgatewayroutes/api-route", "application/yaml", []byte(changedAPIRoute))
	require.Equal(t, http.StatusOK, code, body)
	rds := gw.next(resourcev3.RouteType, wait)
	assert.NotEqual(t, before[resourcev3.RouteType], rds.VersionInfo, "the write after the outage reaches the stream")
	gw.ack(rds, "edge-gateway:HTTP:8080:*")
}
