package test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// policyMesh: an mTLS mesh (so every stream also has SDS) with a builtin gateway routing /a to
// svc-a and /b to svc-b, a Timeout for the gateway's traffic to svc-a, and a Timeout whose
// source matches no dataplane at all.
const policyMesh = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: default
name: gateway-1
networking:
  address: 127.0.5.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}
---
type: MeshGateway
mesh: default
name: edge-gateway
selectors: [{match: {kuma.io/service: edge}}]
conf: {listeners: [{port: 8080, protocol: HTTP, tags: {port: http/8080}}]}
---
type: MeshGatewayRoute
mesh: default
name: edge-routes
selectors: [{match: {kuma.io/service: edge}}]
conf:
  http:
    rules:
      - matches: [{path: {match: PREFIX, value: /a}}]
        backends: [{destination: {kuma.io/service: svc-a}}]
      - matches: [{path: {match: PREFIX, value: /b}}]
        backends: [{destination: {kuma.io/service: svc-b}}]
---
type: Dataplane
mesh: default
name: a-1
networking:
  address: 127.0.5.10
  inbound: [{port: 8080, tags: {kuma.io/service: svc-a, kuma.io/protocol: http}}]
---
type: Dataplane
mesh: default
name: b-1
networking:
  address: 127.0.5.11
  inbound: [{port: 8080, tags: {kuma.io/service: svc-b, kuma.io/protocol: http}}]
`

// policyTimeoutA is edited by the test: CONNECT and REQUEST are replaced.
const policyTimeoutA = `
type: Timeout
mesh: default
name: edge-to-a
sources: [{match: {kuma.io/service: edge}}]
destinations: [{match: {kuma.io/service: svc-a}}]
conf:
  connectTimeout: CONNECT
  http: {requestTimeout: REQUEST}
`

// policyTimeoutNobody selects no dataplane: its source names a service nothing runs. CONNECT
// is replaced.
const policyTimeoutNobody = `
type: Timeout
mesh: default
name: nobody-to-a
sources: [{match: {kuma.io/service: nobody}}]
destinations: [{match: {kuma.io/service: svc-a}}]
conf:
  connectTimeout: CONNECT
`

func timeoutA(connect, request string) string {
	return strings.NewReplacer("CONNECT", connect, "REQUEST", request).Replace(policyTimeoutA)
}

func timeoutNobody(connect string) string {
	return strings.ReplaceAll(policyTimeoutNobody, "CONNECT", connect)
}

// routeTimeout finds the route matching path in the gateway's route configurations and returns
// its timeout.
func routeTimeout(t *testing.T, e *miniEnvoy, path string) time.Duration {
	t.Helper()
	var found *routev3.Route
	for _, rc := range e.routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetMatch().GetPath() == path {
					found = r
				}
			}
		}
	}
	require.NotNil(t, found, "no route for %s", path)
	return found.GetRoute().GetTimeout().AsDuration()
}

// TestPolicyEditOverADS: editing a Timeout through the API re-pushes exactly what it configures
// on the gateway that it selects, the cluster (connect timeout) and the route configuration
// (request timeout), leaving listeners, endpoints and secrets at their versions and the
// sidecars untouched; editing a Timeout that selects nothing pushes nothing to anyone.
func TestPolicyEditOverADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml",
		[]byte(policyMesh+"---"+timeoutA("3s", "7s")+"---"+timeoutNobody("1s")))
	require.Equal(t, http.StatusOK, code, string(body))

	conn := dialADS(t, cp.addrs.XDS)
	gw := newMiniEnvoy(t, newSotW(t, conn, "default.gateway-1", tokenFor(t, cp, "default", "gateway-1")))
	sideA := newMiniEnvoy(t, newSotW(t, conn, "default.a-1", tokenFor(t, cp, "default", "a-1")))
	sideB := newMiniEnvoy(t, newSotW(t, conn, "default.b-1", tokenFor(t, cp, "default", "b-1")))
	for _, e := range []*miniEnvoy{gw, sideA, sideB} {
		e.start()
	}

	// The policy as applied.
	require.Contains(t, gw.clusters, "svc-a", "gateway clusters: %v", sortedKeys(gw.clusters))
	require.Contains(t, gw.clusters, "svc-b")
	assert.Equal(t, 3*time.Second, gw.clusters["svc-a"].GetConnectTimeout().AsDuration())
	assert.Equal(t, 5*time.Second, gw.clusters["svc-b"].GetConnectTimeout().AsDuration(), "svc-b has no Timeout: the default")
	assert.Equal(t, 7*time.Second, routeTimeout(t, gw, "/a"))
	assert.Zero(t, routeTimeout(t, gw, "/b"))
	require.NotEmpty(t, gw.secrets, "an mTLS gateway has SDS secrets")
	require.NotEmpty(t, gw.endpoints)

	for _, e := range []*miniEnvoy{gw, sideA, sideB} {
		assert.Empty(t, e.drain(quietWindow), "%s: pushes while nothing changed", e.c.node.Id)
	}
	before := cloneVersions(gw)
	pushesBefore := map[string]int{}
	for typ, n := range gw.pushes {
		pushesBefore[typ] = n
	}
	sideVersions := []map[string]string{cloneVersions(sideA), cloneVersions(sideB)}

	// Edit the Timeout: new connect and request timeouts.
	code, body = cp.call(t, http.MethodPut, "/meshes/default/timeouts/edge-to-a", "application/yaml", []byte(timeoutA("4s", "8s")))
	require.Equal(t, http.StatusOK, code, string(body))
	gw.await(resourcev3.ClusterType, wait)
	gw.await(resourcev3.RouteType, wait)
	got := gw.drain(quietWindow)
	assert.Empty(t, got, "gateway: pushes beyond CDS and RDS")

	assert.NotEqual(t, before[resourcev3.ClusterType], gw.versions[resourcev3.ClusterType], "CDS version")
	assert.NotEqual(t, before[resourcev3.RouteType], gw.versions[resourcev3.RouteType], "RDS version")
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.EndpointType, resourcev3.SecretType} {
		assert.Equal(t, before[typ], gw.versions[typ], "%s version must not change", typ)
		assert.Equal(t, pushesBefore[typ], gw.pushes[typ], "%s pushed again", typ)
	}
	assert.Equal(t, 4*time.Second, gw.clusters["svc-a"].GetConnectTimeout().AsDuration())
	assert.Equal(t, 5*time.Second, gw.clusters["svc-b"].GetConnectTimeout().AsDuration())
	assert.Equal(t, 8*time.Second, routeTimeout(t, gw, "/a"))
	assert.Zero(t, routeTimeout(t, gw, "/b"))
	for i, e := range []*miniEnvoy{sideA, sideB} {
		assert.Empty(t, e.drain(quietWindow), "%s: pushes when a gateway's Timeout changed", e.c.node.Id)
		assert.Equal(t, sideVersions[i], e.versions, e.c.node.Id)
	}

	// Edit the Timeout that selects nothing: nobody hears anything.
	after := cloneVersions(gw)
	code, body = cp.call(t, http.MethodPut, "/meshes/default/timeouts/nobody-to-a", "application/yaml", []byte(timeoutNobody("9s")))
	require.Equal(t, http.StatusOK, code, string(body))
	for _, e := range []*miniEnvoy{gw, sideA, sideB} {
		assert.Empty(t, e.drain(quietWindow), "%s: pushes when a Timeout selecting nothing changed", e.c.node.Id)
	}
	assert.Equal(t, after, gw.versions)
	code, body = cp.call(t, http.MethodGet, "/meshes/default/timeouts/nobody-to-a", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Contains(t, string(body), "9s", "the edit was stored")
}

func cloneVersions(e *miniEnvoy) map[string]string {
	out := map[string]string{}
	for k, v := range e.versions {
		out[k] = v
	}
	return out
}
