package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replicasYAML is n more replicas of the example gateway (gateway-instance-2 onwards), on the
// example's one host: its backends listen on 127.0.0.1 too, so a replica elsewhere would not
// share (its address would appear in the endpoints; see controlplane/classes.go).
func replicasYAML(n int) string {
	var b strings.Builder
	for i := 2; i < 2+n; i++ {
		fmt.Fprintf(&b, `
---
type: Dataplane
mesh: default
name: gateway-instance-%d
networking:
  address: 127.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge-gateway}}
`, i)
	}
	return b.String()
}

func (c *runningCP) renders(t *testing.T) (full, shared float64) {
	t.Helper()
	resp, err := http.Get("http://" + c.addrs.Diag + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		var v float64
		if _, err := fmt.Sscanf(line, `meshgate_xds_renders_total{how="full"} %g`, &v); err == nil {
			full = v
		}
		if _, err := fmt.Sscanf(line, `meshgate_xds_renders_total{how="shared"} %g`, &v); err == nil {
			shared = v
		}
	}
	return full, shared
}

func (c *runningCP) inspect(t *testing.T, name string) map[string]any {
	t.Helper()
	code, body := c.call(t, http.MethodGet, "/meshes/default/dataplanes/"+name+"/inspect", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var out map[string]any
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

// TestOnlyConnectedDataplanesAreRendered (issue 18 items 1 and 2): ten gateway replicas are
// known, none rendered until it connects; the second replica to connect shares the first's
// rendering; a route change renders the two connected ones only; a replica that leaves is
// forgotten, and when it comes back with the versions it holds it is sent nothing.
func TestOnlyConnectedDataplanesAreRendered(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append(exampleYAML(t), []byte(replicasYAML(9))...))
	require.Equal(t, http.StatusOK, code, string(body))
	require.Eventually(t, func() bool {
		code, _ := cp.call(t, http.MethodGet, "/meshes/default/dataplanes/gateway-instance-10/inspect", "", nil)
		return code == http.StatusOK
	}, wait, 20*time.Millisecond, "the replicas are known")
	full, shared := cp.renders(t)
	assert.Zero(t, full+shared, "nothing is rendered before a dataplane connects")

	conn := dialADS(t, cp.addrs.XDS)
	gw1 := newSotW(t, conn, gatewayNode, tokenFor(t, cp, "default", "gateway-instance-1"))
	v1 := fetchAll(t, gw1)
	full, shared = cp.renders(t)
	assert.Equal(t, [2]float64{1, 0}, [2]float64{full, shared}, "the first replica is rendered in full")

	tok2 := tokenFor(t, cp, "default", "gateway-instance-2")
	gw2 := newSotW(t, dialADS(t, cp.addrs.XDS), "default.gateway-instance-2", tok2)
	v2 := fetchAll(t, gw2)
	full, shared = cp.renders(t)
	assert.Equal(t, [2]float64{1, 1}, [2]float64{full, shared}, "the second takes the first's")
	assert.Equal(t, v1, v2)

	// An unconnected replica is rendered on demand, and says it is not connected.
	assert.Equal(t, false, cp.inspect(t, "gateway-instance-7")["connected"])
	assert.Equal(t, true, cp.inspect(t, "gateway-instance-1")["connected"])
	code, body = cp.call(t, http.MethodGet, "/meshes/default/dataplanes/gateway-instance-7/xds", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Contains(t, string(body), "edge-gateway:HTTP:8080", "rendered on demand")
	full, shared = cp.renders(t)
	assert.Equal(t, [2]float64{1, 1}, [2]float64{full, shared}, "on-demand renderings are not served ones")

	code, body = cp.call(t, http.MethodPut, "/meshes/default/meshgatewayroutes/api-route", "application/yaml", []byte(changedAPIRoute))
	require.Equal(t, http.StatusOK, code, string(body))
	for _, gw := range []*sotwClient{gw1, gw2} {
		rds := gw.next(resourcev3.RouteType, wait)
		assert.NotEqual(t, v1[resourcev3.RouteType], rds.VersionInfo)
		gw.ack(rds, "edge-gateway:HTTP:8080:*")
		v2[resourcev3.RouteType] = rds.VersionInfo
	}
	full2, shared2 := cp.renders(t)
	assert.Equal(t, [2]float64{full + 1, shared + 1}, [2]float64{full2, shared2}, "only the connected replicas are rendered again")

	// gateway-instance-2 leaves; once it is forgotten it comes back holding its versions, and is
	// sent nothing new: the same configuration rendered again has the same versions. (A request
	// that finds the snapshot already set is answered once on a new SotW stream, which has been
	// told nothing yet, at the version the client holds; Envoy sees an identical configuration
	// and changes nothing. One that waits for it is not answered at all.)
	gw2.close()
	require.Eventually(t, func() bool { return cp.inspect(t, "gateway-instance-2")["connected"] == false }, wait, 20*time.Millisecond)
	back := newSotW(t, dialADS(t, cp.addrs.XDS), "default.gateway-instance-2", tok2)
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		back.send(&discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: v2[typ]})
	}
	back.send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.RouteType, VersionInfo: v2[resourcev3.RouteType], ResourceNames: []string{"edge-gateway:HTTP:8080:*"}})
	for _, resp := range back.drain(quietWindow) {
		assert.Equal(t, v2[resp.TypeUrl], resp.VersionInfo, "%s: only what it holds", resp.TypeUrl)
	}
	require.Eventually(t, func() bool { return cp.inspect(t, "gateway-instance-2")["connected"] == true }, wait, 20*time.Millisecond)
	full3, shared3 := cp.renders(t)
	assert.Equal(t, full2+shared2+1, full3+shared3, "rendered again when it came back")
}
