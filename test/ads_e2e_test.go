package test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

const (
	gatewayNode = "default.gateway-instance-1"
	otherNode   = "other.gateway-other"
	wait        = 5 * time.Second
	quietWindow = 500 * time.Millisecond
)

// otherMeshYAML is a second, unrelated gateway: a change in mesh default must push nothing to it.
const otherMeshYAML = `
type: Mesh
name: other
---
type: Dataplane
mesh: other
name: gateway-other
networking:
  address: 127.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: other-gateway}}
---
type: MeshGateway
mesh: other
name: other-gateway
selectors: [{match: {kuma.io/service: other-gateway}}]
conf: {listeners: [{port: 9090, protocol: HTTP}]}
`

const changedAPIRoute = `
type: MeshGatewayRoute
mesh: default
name: api-route
selectors:
  - match:
      kuma.io/service: edge-gateway
      port: http/8080
conf:
  http:
    rules:
      - matches:
          - path: {match: PREFIX, value: /v2/api}
        backends:
          - destination: {kuma.io/service: api}
`

// fetchAll runs Envoy's start-up sequence on a SotW stream: CDS and LDS, then EDS and RDS for
// the names they reference, ACKing each. It returns the versions per type.
func fetchAll(t *testing.T, c *sotwClient) map[string]string {
	t.Helper()
	versions := map[string]string{}
	c.subscribe(resourcev3.ClusterType)
	cds := c.next(resourcev3.ClusterType, wait)
	c.ack(cds)
	versions[resourcev3.ClusterType] = cds.VersionInfo
	clusters := resourceNames(t, cds)
	c.subscribe(resourcev3.EndpointType, clusters...)
	c.subscribe(resourcev3.ListenerType)
	lds := c.next(resourcev3.ListenerType, wait)
	c.ack(lds)
	versions[resourcev3.ListenerType] = lds.VersionInfo
	c.subscribe(resourcev3.RouteType, "edge-gateway:HTTP:8080:*")
	eds := c.next(resourcev3.EndpointType, wait)
	c.ack(eds, clusters...)
	versions[resourcev3.EndpointType] = eds.VersionInfo
	rds := c.next(resourcev3.RouteType, wait)
	c.ack(rds, "edge-gateway:HTTP:8080:*")
	versions[resourcev3.RouteType] = rds.VersionInfo
	require.ElementsMatch(t, []string{"api", "frontend"}, clusters)
	require.Equal(t, []string{"edge-gateway:HTTP:8080"}, resourceNames(t, lds))
	require.Equal(t, []string{"edge-gateway:HTTP:8080:*"}, resourceNames(t, rds))
	return versions
}

// TestSeedExampleOverADS is the end-to-end story: apply the seed example through the
// API, receive it over a real ADS stream, change a route and see only that pushed, NACK without
// a re-send storm, and restart on the same data dir with identical versions.
func TestSeedExampleOverADS(t *testing.T) {
	dataDir := t.TempDir()
	cp := startCP(t, dataDir)
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append(exampleYAML(t), []byte("\n---\n"+otherMeshYAML)...))
	require.Equal(t, http.StatusOK, code, string(body))

	conn := dialADS(t, cp.addrs.XDS)
	gwToken := tokenFor(t, cp, "default", "gateway-instance-1")
	gw := newSotW(t, conn, gatewayNode, gwToken)
	before := fetchAll(t, gw)

	other := newSotW(t, conn, otherNode, tokenFor(t, cp, "other", "gateway-other"))
	other.subscribe(resourcev3.ListenerType)
	olds := other.next(resourcev3.ListenerType, wait)
	other.ack(olds)
	require.Equal(t, []string{"other-gateway:HTTP:9090"}, resourceNames(t, olds))
	gw.quiet(quietWindow)

	// Change one route: only the route configuration changes for the gateway; the other mesh's
	// gateway hears nothing.
	code, body = cp.call(t, http.MethodPut, "/meshes/default/meshgatewayroutes/api-route", "application/yaml", []byte(changedAPIRoute))
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, code, string(body))
	rds := gw.next(resourcev3.RouteType, wait)
	assert.NotEqual(t, before[resourcev3.RouteType], rds.VersionInfo)
	gw.quiet(quietWindow)
	other.quiet(quietWindow)

	// NACK the new routes: meshgate must not re-send the rejected version.
	gw.nack(rds, before[resourcev3.RouteType], "edge-gateway:HTTP:8080:*")
	assert.Zero(t, gw.count(time.Second), "responses after a NACK")

	// A later change is pushed even to the stream that NACKed.
	code, body = cp.call(t, http.MethodPut, "/meshes/default/meshgatewayroutes/api-route", "application/yaml",
		[]byte(strings.ReplaceAll(changedAPIRoute, "/v2/api", "/v3/api")))
	require.Equal(t, http.StatusOK, code, string(body))
	rds2 := gw.next(resourcev3.RouteType, wait)
	assert.NotEqual(t, rds.VersionInfo, rds2.VersionInfo)
	gw.ack(rds2, "edge-gateway:HTTP:8080:*")
	after := map[string]string{
		resourcev3.ClusterType:  before[resourcev3.ClusterType],
		resourcev3.ListenerType: before[resourcev3.ListenerType],
		resourcev3.RouteType:    rds2.VersionInfo,
	}

	// Restart on the same data dir: a fresh stream, with the token issued before the restart,
	// gets exactly the versions served before.
	cp.stop()
	cp2 := startCP(t, dataDir)
	gw2 := newSotW(t, dialADS(t, cp2.addrs.XDS), gatewayNode, gwToken)
	gw2.subscribe(resourcev3.ClusterType)
	cds := gw2.next(resourcev3.ClusterType, wait)
	gw2.subscribe(resourcev3.ListenerType)
	lds := gw2.next(resourcev3.ListenerType, wait)
	gw2.subscribe(resourcev3.RouteType, "edge-gateway:HTTP:8080:*")
	rds3 := gw2.next(resourcev3.RouteType, wait)
	assert.Equal(t, after[resourcev3.ClusterType], cds.VersionInfo, "cluster version after restart")
	assert.Equal(t, after[resourcev3.ListenerType], lds.VersionInfo, "listener version after restart")
	assert.Equal(t, after[resourcev3.RouteType], rds3.VersionInfo, "route version after restart")
}
