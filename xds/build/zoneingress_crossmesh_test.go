package build

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
)

// crossMeshInput is the golden case's input: payments' cross-mesh gateway, and cart-1 in
// mesh shop calling it.
func crossMeshInput(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/golden/crossmesh-consumer-explicit/input.yaml")
	require.NoError(t, err)
	return string(raw)
}

// withoutDoc drops the YAML document that declares `name: <name>`.
func withoutDoc(yaml, name string) string {
	var keep []string
	for _, doc := range strings.Split(yaml, "\n---\n") {
		if !strings.Contains(doc, "\nname: "+name+"\n") {
			keep = append(keep, doc)
		}
	}
	return strings.Join(keep, "\n---\n")
}

// TestCrossMeshAcrossZones: zone 1 runs the payments gateway and offers its cross-mesh
// listener on its ingress, which passes the listener's SNI through to the gateway; zone 2 has
// only the consumer, whose cluster for the gateway reaches zone 1's ingress with that SNI.
func TestCrossMeshAcrossZones(t *testing.T) {
	zone1 := crossMeshInput(t) + `
---
type: ZoneIngress
name: ingress
zone: zone-1
networking: {address: 10.0.1.1, port: 10001, advertisedAddress: 203.0.113.1, advertisedPort: 10001}
`
	m1 := sidecarModel(t, zone1)
	offered := AvailableServices(m1, nil)
	require.Contains(t, offered, api.AvailableService{Mesh: "payments",
		Tags: map[string]string{api.ServiceTag: "payments-gateway", "port": "8080"}, Instances: 1})
	ingress, err := ZoneIngress(ZoneIngressRequest{Model: m1, Name: "ingress"})
	require.NoError(t, err)
	var chain *ir.FilterChain
	for i, fc := range ingress.Listeners[0].FilterChains {
		if fc.Name == "payments-gateway{mesh=payments,port=8080}" {
			chain = &ingress.Listeners[0].FilterChains[i]
		}
	}
	require.NotNil(t, chain, "the ingress routes the listener's SNI: %+v", ingress.Listeners[0].FilterChains)
	var gw *ir.Cluster
	for i, c := range ingress.Clusters {
		if c.Name == chain.TCP.Clusters[0].Name {
			gw = &ingress.Clusters[i]
		}
	}
	require.NotNil(t, gw)
	require.Equal(t, "10.0.1.10", gw.Endpoints[0].Address)
	require.EqualValues(t, 8080, gw.Endpoints[0].Port, "the cross-mesh listener's port on the gateway")

	// Zone 2: the consumer, and zone 1's ingress as global relays it.
	zone2 := withoutDoc(withoutDoc(crossMeshInput(t), "payments-gateway-1"), "payments-api-1") + `
---
type: ZoneIngress
name: zone-1.ingress
zone: zone-1
networking: {address: 10.0.1.1, port: 10001, advertisedAddress: 203.0.113.1, advertisedPort: 10001}
availableServices:
  - {mesh: payments, tags: {kuma.io/service: payments-gateway, port: "8080"}, instances: 1}
`
	opts := DefaultOptions()
	opts.Zone = "zone-2"
	p, err := Proxy(Request{Model: sidecarModel(t, zone2), Mesh: "shop", Name: "cart-1", Options: opts})
	require.NoError(t, err)
	var found bool
	for _, c := range p.Clusters {
		if c.Mesh != "payments" {
			continue
		}
		found = true
		require.Equal(t, "payments-gateway{mesh=payments,port=8080}", c.MTLS.SNI)
		require.Equal(t, []ir.Endpoint{{Address: "203.0.113.1", Port: 10001, Weight: 1,
			Tags: map[string]string{api.ServiceTag: "payments-gateway"}, Zone: "zone-1"}}, c.Endpoints,
			"zone 1's ingress, at priority 0: there is no local gateway")
	}
	require.True(t, found, "cart-1 has a cluster for the payments gateway: %+v", p.Clusters)
}

// TestRemoteOnlyServiceOverVIP: a service that only another zone runs gets a `<service>.mesh`
// outbound on a transparent sidecar, with the protocol the other zone reports, and its cluster
// reaches that zone's ingress.
func TestRemoteOnlyServiceOverVIP(t *testing.T) {
	resources := ingressMTLSMeshes + `type: Dataplane
name: web
mesh: default
networking:
  address: 10.0.1.5
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
---
type: ZoneIngress
name: zone-2.ingress
zone: zone-2
networking: {address: 10.0.2.1, port: 10001, advertisedAddress: 203.0.113.2, advertisedPort: 10001}
availableServices:
  - {mesh: default, tags: {kuma.io/service: orders, kuma.io/protocol: http}, instances: 3}
`
	opts := DefaultOptions()
	opts.Zone = "zone-1"
	p, err := Proxy(Request{Model: sidecarModel(t, resources), Mesh: "default", Name: "web", Options: opts})
	require.NoError(t, err)
	var orders *ir.Cluster
	for i, c := range p.Clusters {
		if c.Service == "orders" {
			orders = &p.Clusters[i]
		}
	}
	require.NotNil(t, orders, "a cluster for the remote-only service: %+v", p.Clusters)
	require.Equal(t, ir.ClusterHTTP2, orders.Protocol, "zone 2 reports http, which sidecars carry as HTTP/2 like any mesh HTTP service (not tcp)")
	require.Equal(t, []ir.Endpoint{{Address: "203.0.113.2", Port: 10001, Weight: 3,
		Tags: map[string]string{api.ServiceTag: "orders"}, Zone: "zone-2"}}, orders.Endpoints)
	var outbound bool
	for _, l := range p.Listeners {
		for _, fc := range l.FilterChains {
			if fc.HTTP != nil && l.Virtual && l.Port == 80 {
				for _, vh := range fc.HTTP.RouteConfig.VirtualHosts {
					for _, r := range vh.Routes {
						if r.Forward != nil && len(r.Forward.Clusters) > 0 && r.Forward.Clusters[0].Name == orders.Name {
							outbound = true
						}
					}
				}
			}
		}
	}
	require.True(t, outbound, "web has an HTTP outbound on orders.mesh's VIP to the cluster")
}
