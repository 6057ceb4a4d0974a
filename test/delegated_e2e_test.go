package test

import (
	"net/http"
	"testing"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// delegatedMesh: Kong in front of the mesh with its Envoy as a delegated gateway (outbounds
// only, reached through iptables), and two HTTP services Kong may call.
const delegatedMesh = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: default
name: kong-1
networking:
  address: 127.0.3.5
  gateway: {type: DELEGATED, tags: {kuma.io/service: kong}}
  transparentProxying: {redirectPortOutbound: 15001}
---
type: Dataplane
mesh: default
name: web-1
networking:
  address: 127.0.3.10
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
---
type: Dataplane
mesh: default
name: orders-1
networking:
  address: 127.0.3.11
  inbound: [{port: 8080, servicePort: 3000, tags: {kuma.io/service: orders, kuma.io/protocol: http}}]
---
type: TrafficPermission
mesh: default
name: kong-to-web-and-orders
sources: [{match: {kuma.io/service: kong}}]
destinations: [{match: {kuma.io/service: web}}, {match: {kuma.io/service: orders}}]
`

// delegatedLedger is a third service, plain TCP, that only orders may call.
const delegatedLedger = `
type: Dataplane
mesh: default
name: ledger-1
networking:
  address: 127.0.3.12
  inbound: [{port: 5432, tags: {kuma.io/service: ledger, kuma.io/protocol: tcp}}]
---
type: TrafficPermission
mesh: default
name: orders-to-ledger
sources: [{match: {kuma.io/service: orders}}]
destinations: [{match: {kuma.io/service: ledger}}]
`

// principalsOf lists the exact and prefix principal names of every policy of an RBAC filter.
func principalsOf(r *rbacconfigv3.RBAC) []string {
	var out []string
	for _, p := range r.GetPolicies() {
		for _, pr := range p.GetPrincipals() {
			n := pr.GetAuthenticated().GetPrincipalName()
			if v := n.GetExact(); v != "" {
				out = append(out, v)
			}
			if v := n.GetPrefix(); v != "" {
				out = append(out, v+"*")
			}
		}
	}
	return out
}

// TestDelegatedGatewayOverADS: service dataplanes receive mTLS inbounds guarded by RBAC; the
// delegated gateway's Envoy receives one virtual outbound per service VIP, to clusters that
// originate mTLS. A new service reaches the gateway as a new listener and cluster, and leaves
// the other services' configuration alone.
func TestDelegatedGatewayOverADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(delegatedMesh))
	require.Equal(t, http.StatusOK, code, string(body))

	conn := dialADS(t, cp.addrs.XDS)
	kong := newMiniEnvoy(t, newSotW(t, conn, "default.kong-1", tokenFor(t, cp, "default", "kong-1")))
	web := newMiniEnvoy(t, newSotW(t, conn, "default.web-1", tokenFor(t, cp, "default", "web-1")))
	orders := newMiniEnvoy(t, newSotW(t, conn, "default.orders-1", tokenFor(t, cp, "default", "orders-1")))
	kong.start()
	web.start()
	orders.start()

	// The services: an inbound that requires a mesh client certificate and runs RBAC first.
	for _, svc := range []struct {
		e          *miniEnvoy
		name, addr string
		local      string
	}{{web, "web", "127.0.3.10", "localhost:8080"}, {orders, "orders", "127.0.3.11", "localhost:3000"}} {
		lname := "inbound:" + svc.addr + ":8080"
		l := svc.e.listeners[lname]
		require.NotNil(t, l, "%s listeners: %v", svc.name, sortedKeys(svc.e.listeners))
		require.Len(t, l.GetFilterChains(), 1)
		fc := l.GetFilterChains()[0]
		d := downstreamTLS(t, fc)
		require.NotNil(t, d, "%s: the inbound must terminate mTLS", lname)
		assert.True(t, d.GetRequireClientCertificate().GetValue(), "%s must require client certificates", lname)
		assert.Equal(t, []string{"identity_cert:secret:default", "mesh_ca:secret:default"}, sdsRefs(d.GetCommonTlsContext()), lname)
		require.NotEmpty(t, fc.GetFilters())
		assert.Equal(t, "envoy.filters.network.rbac", fc.GetFilters()[0].GetName(), "%s: RBAC must run before anything else", lname)
		r := rbacOf(t, fc)
		require.NotNil(t, r, lname)
		assert.Equal(t, []string{"spiffe://default/kong"}, principalsOf(r.GetRules()), "%s: only kong may call", lname)
		require.NotNil(t, hcmOf(t, fc), "%s: an http inbound", lname)
		assert.Contains(t, svc.e.clusters, svc.local)

		ids, err := verifyAgainst(t, svidChain(t, svc.e.secrets["identity_cert:secret:default"]), "default",
			svc.e.secrets["mesh_ca:secret:default"].GetValidationContext().GetTrustedCa().GetInlineString())
		require.NoError(t, err)
		assert.Equal(t, "spiffe://default/"+svc.name, ids[0].String())
	}

	// The delegated gateway: no inbound, one virtual outbound per service VIP on port 80.
	for name := range kong.listeners {
		assert.NotContains(t, name, "inbound:", "a delegated gateway gets no inbound")
	}
	assert.Contains(t, kong.listeners, "outbound:passthrough:ipv4")
	vips := map[string]string{}
	for _, svc := range []string{"web", "orders"} {
		vips[svc] = resolveVIP(t, cp, svc+".mesh")
		l := kong.listeners["outbound:"+vips[svc]+":80"]
		require.NotNil(t, l, "kong: no outbound for %s.mesh (%s): %v", svc, vips[svc], sortedKeys(kong.listeners))
		require.NotNil(t, l.GetBindToPort())
		assert.False(t, l.GetBindToPort().GetValue(), "a VIP listener must not bind")
		require.Len(t, l.GetFilterChains(), 1)
		h := hcmOf(t, l.GetFilterChains()[0])
		require.NotNil(t, h, "an http service gets an http outbound")
		rc := kong.routes[h.GetRds().GetRouteConfigName()]
		require.NotNil(t, rc, "route configuration %s", h.GetRds().GetRouteConfigName())
		assert.Equal(t, svc, rc.GetVirtualHosts()[0].GetRoutes()[0].GetRoute().GetCluster())

		c := kong.clusters[svc]
		require.NotNil(t, c, "kong clusters: %v", sortedKeys(kong.clusters))
		up := upstreamTLS(t, c)
		require.NotNil(t, up, "cluster %s must originate mTLS", svc)
		assert.Equal(t, []string{"identity_cert:secret:default", "mesh_ca:secret:default"}, sdsRefs(up.GetCommonTlsContext()))
		assert.Equal(t, []string{"spiffe://default/" + svc}, sanExact(up))
	}
	assert.Equal(t, []string{"127.0.3.10:8080"}, endpointAddrs(kong.endpoints["web"]))
	assert.Equal(t, []string{"127.0.3.11:8080"}, endpointAddrs(kong.endpoints["orders"]))
	ids, err := verifyAgainst(t, svidChain(t, kong.secrets["identity_cert:secret:default"]), "default",
		kong.secrets["mesh_ca:secret:default"].GetValidationContext().GetTrustedCa().GetInlineString())
	require.NoError(t, err)
	assert.Equal(t, "spiffe://default/kong", ids[0].String())

	for _, e := range []*miniEnvoy{kong, web, orders} {
		assert.Empty(t, e.drain(quietWindow), "%s: pushes while nothing changed", e.c.node.Id)
	}
	webLDS, ordersLDS := web.versions[resourcev3.ListenerType], orders.versions[resourcev3.ListenerType]
	kongLDS := kong.versions[resourcev3.ListenerType]

	// A third service: the gateway gets its outbound (TCP) and cluster; web and orders nothing.
	code, body = cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(delegatedLedger))
	require.Equal(t, http.StatusOK, code, string(body))
	kong.await(resourcev3.ListenerType, wait)
	assert.NotEqual(t, kongLDS, kong.versions[resourcev3.ListenerType])
	ledgerVIP := resolveVIP(t, cp, "ledger.mesh")
	l := kong.listeners["outbound:"+ledgerVIP+":80"]
	require.NotNil(t, l, "kong: no outbound for ledger.mesh (%s): %v", ledgerVIP, sortedKeys(kong.listeners))
	assert.False(t, l.GetBindToPort().GetValue())
	p := tcpProxyOf(t, l.GetFilterChains()[0])
	require.NotNil(t, p, "a tcp service gets a tcp_proxy outbound")
	assert.Equal(t, "ledger", p.GetCluster())
	for _, svc := range []string{"web", "orders"} {
		assert.Contains(t, kong.listeners, "outbound:"+vips[svc]+":80", "the VIP of %s.mesh must not move when another service appears", svc)
		assert.Equal(t, vips[svc], resolveVIP(t, cp, svc+".mesh"))
	}
	kong.drain(quietWindow) // CDS, then EDS and SDS for the new names
	require.Contains(t, kong.clusters, "ledger")
	up := upstreamTLS(t, kong.clusters["ledger"])
	require.NotNil(t, up, "cluster ledger must originate mTLS")
	assert.Equal(t, []string{"spiffe://default/ledger"}, sanExact(up))
	assert.Equal(t, []string{"127.0.3.12:5432"}, endpointAddrs(kong.endpoints["ledger"]))
	assert.Empty(t, kong.missing(resourcev3.EndpointType))

	for _, e := range []*miniEnvoy{web, orders} {
		got := e.drain(quietWindow)
		assert.Zero(t, got[resourcev3.ListenerType], "%s: listeners re-sent when an unrelated service appeared", e.c.node.Id)
		assert.Empty(t, got, "%s: pushes when an unrelated service appeared", e.c.node.Id)
	}
	assert.Equal(t, webLDS, web.versions[resourcev3.ListenerType])
	assert.Equal(t, ordersLDS, orders.versions[resourcev3.ListenerType])
}
