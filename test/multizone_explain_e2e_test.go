package test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mzAPIOnlyInZone2 is service api with its one instance in zone 2, behind zone 2's ingress.
const mzAPIOnlyInZone2 = `type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.1
  inbound:
    - port: 9002
      tags:
        kuma.io/service: api
        kuma.io/protocol: http
---
type: ZoneIngress
name: ingress
networking:
  address: 127.0.0.1
  port: 10001
  advertisedAddress: 203.0.113.2
  advertisedPort: 10001
`

// explainOn runs `meshgate explain --server` against cp and returns its output and error.
func explainOn(t *testing.T, cp *binaryCP, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cp.bin, append([]string{"explain", "--server"}, args...)...)
	cmd.Env = cp.environ
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMultiZoneExplainIngressHop: with service api only in zone 2, `meshgate explain --server`
// against zone 1 explains /api at zone 1's gateway on what zone 1 serves it (global's route,
// zone 2's ingress) and names the hop through zone 2's ZoneIngress, with its address and SNI.
// Global lists the gateway too, but does not serve it, and says so.
func TestMultiZoneExplainIngressHop(t *testing.T) {
	w := startMultiZone(t, "zone-1", "zone-2")
	// Other zones' ingresses are used in mTLS meshes only: the ingress routes by the SNI.
	out, err := w.apply(w.global, mzMTLSDefault+mzGatewayResources)
	require.NoError(t, err, out)
	z1, z2 := w.zones["zone-1"], w.zones["zone-2"]
	eventuallyGet(t, z1, "/meshes/default/meshgatewayroutes/api-route", func(code int, _ string) bool { return code == 200 })
	eventuallyGet(t, z2, "/meshes/default", func(code int, body string) bool { return code == 200 && strings.Contains(body, "ca-1") })
	out, err = w.apply(z2, mzAPIOnlyInZone2)
	require.NoError(t, err, out)
	eventuallyGet(t, z1, "/zoneingresses/zone-2.ingress", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"kuma.io/service":"api"`)
	})
	out, err = w.apply(z1, mzGatewayDataplane)
	require.NoError(t, err, out)

	args := []string{"--dataplane", "default/gateway-1", "--port", "8080", "--host", "foo.example.com", "--path", "/api"}
	const hop = `reaches api via the ZoneIngress of zone zone-2 at 203.0.113.2:10001`
	// The zone rebuilds after each write; explain once the gateway is built with the ingress.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err = explainOn(t, z1, args...)
		if err == nil && strings.Contains(out, hop) {
			break
		}
		require.True(t, time.Now().Before(deadline), "explain against zone 1 never named the hop through zone 2's ingress; last (%v):\n%s", err, out)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("meshgate explain --server against zone 1:\n%s", out)
	require.Contains(t, out, "api-route", "the route global made")
	require.Contains(t, out, "SNI api{mesh=default}", "the ingress routes by the service's SNI")

	// The same in JSON, the stable form: the hop is a note of the one result.
	out, err = explainOn(t, z1, append(args, "-o", "json")...)
	require.NoError(t, err, out)
	require.Contains(t, out, `"listener":`)
	require.Contains(t, out, hop)

	// A dataplane the zone does not have is a plain not-found.
	out, err = explainOn(t, z1, "--dataplane", "default/no-such-gateway", "--port", "8080")
	require.Error(t, err, out)
	require.Contains(t, out, "dataplane default/no-such-gateway: not found among the dataplanes this control plane serves")

	// Global lists zone 1's gateway but does not serve it: a refusal naming the zone, not an
	// answer from global's own view (which has no zone and would send /api to 127.0.0.1:9002).
	eventuallyGet(t, w.global, "/meshes/default/dataplanes/zone-1.gateway-1", func(code int, _ string) bool { return code == 200 })
	out, err = explainOn(t, w.global, "--dataplane", "default/zone-1.gateway-1", "--port", "8080", "--host", "foo.example.com", "--path", "/api")
	require.Error(t, err, out)
	require.Contains(t, out, "dataplane default/zone-1.gateway-1 is served by zone zone-1, not by the global control plane: ask zone zone-1's control plane")
}
