//go:build envoy

// This test needs a real Envoy: `go test -tags envoy ./test/ -run TestRealEnvoy` with `envoy`
// on PATH. meshgate's own machines have no Envoy binary, so it is not part of `make test`.
package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/bootstrap"
)

// TestRealEnvoy boots a stock Envoy from `meshgate bootstrap` and checks it accepts (ACKs) the
// example gateway's listener, routes and clusters.
func TestRealEnvoy(t *testing.T) {
	envoy, err := exec.LookPath("envoy")
	if err != nil {
		t.Skip("envoy not on PATH")
	}
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", exampleYAML(t))
	require.Equal(t, http.StatusOK, code, string(body))

	objs, errs := api.LoadFiles([]string{"../examples/gateway/gateway.yaml"})
	require.Empty(t, errs)
	var dp *api.Dataplane
	for _, o := range objs {
		if d, ok := o.(*api.Dataplane); ok {
			dp = d
		}
	}
	require.NotNil(t, dp)
	admin := freePort(t)
	token := tokenFor(t, cp, dp.Mesh, dp.Name)
	b, err := bootstrap.New(bootstrap.Request{Dataplane: dp, ControlPlane: cp.addrs.XDS, AdminPort: admin, Token: token,
		ControlPlaneCA: cp.caPEM})
	require.NoError(t, err)
	raw, err := protojson.Marshal(b)
	require.NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "bootstrap.json")
	require.NoError(t, os.WriteFile(cfg, raw, 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, envoy, "-c", cfg, "--base-id", fmt.Sprint(admin), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }()

	adminGet := func(path string) string {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", admin, path))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	require.Eventually(t, func() bool {
		return strings.Contains(adminGet("/listeners"), "edge-gateway:HTTP:8080") &&
			strings.Contains(adminGet("/clusters"), "api::") &&
			strings.Contains(adminGet("/config_dump?resource=dynamic_route_configs"), "edge-gateway:HTTP:8080:*")
	}, 20*time.Second, 200*time.Millisecond, "Envoy did not accept the gateway configuration")
	require.NotContains(t, adminGet("/stats?filter=update_rejected"), "update_rejected: 1")
}
