package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mzCrossMeshGlobal are the meshes, the payments cross-mesh gateway, its route and the
// permission for mesh shop, all created on global.
const mzCrossMeshGlobal = crossMeshMeshes + `---
type: MeshGateway
mesh: payments
name: payments-gateway
selectors: [{match: {kuma.io/service: payments-gateway}}]
conf:
  listeners:
    - {port: 8080, protocol: HTTP, crossMesh: true, hostname: payments.mesh}
---
type: MeshGatewayRoute
mesh: payments
name: payments-api
selectors: [{match: {kuma.io/service: payments-gateway}}]
conf:
  http:
    rules:
      - matches: [{path: {match: PREFIX, value: /}}]
        backends: [{destination: {kuma.io/service: payments-api}}]
---
type: TrafficPermission
mesh: payments
name: shop-to-gateway
sources: [{match: {kuma.io/mesh: shop, kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: payments-gateway}}]
`

// envoy connects to a zone's xDS as dataplane mesh/name with a token the zone issued.
func (w *mzWorld) envoy(zone *binaryCP, mesh, name string) *miniEnvoy {
	w.t.Helper()
	xdsCAs.Store(zone.xds, []byte(zone.cli(w.t, "ca", "control-plane")))
	w.t.Cleanup(func() { xdsCAs.Delete(zone.xds) })
	token := strings.TrimSpace(zone.cli(w.t, "token", "dataplane", "--mesh", mesh, "--name", name))
	e := newMiniEnvoy(w.t, newSotW(w.t, dialADS(w.t, zone.xds), mesh+"."+name, token))
	e.start()
	return e
}

// TestMultiZoneCrossMesh: what Kuma never shipped. Mesh payments' cross-mesh gateway runs in
// zone 1, mesh shop's cart in zone 2. Zone 1 offers the gateway's listener on its ingress;
// cart's cluster for the gateway reaches zone 1's ingress with the listener's SNI; the
// ingress passes that SNI through to the gateway; and the identities meet as within a zone:
// cart's SVID (zone 2's shop intermediate) against the shop bundle the gateway in zone 1
// trusts, the gateway's (zone 1's payments intermediate) against the payments CA cart is sent,
// in a real mTLS handshake.
func TestMultiZoneCrossMesh(t *testing.T) {
	w := startMultiZone(t, "zone-1", "zone-2")
	out, err := w.apply(w.global, mzCrossMeshGlobal)
	require.NoError(t, err, out)
	z1, z2 := w.zones["zone-1"], w.zones["zone-2"]
	for _, z := range []*binaryCP{z1, z2} {
		eventuallyGet(t, z, "/meshes/payments/meshgateways/payments-gateway", func(code int, _ string) bool { return code == 200 })
		eventuallyGet(t, z, "/meshes/shop", func(code int, body string) bool { return code == 200 && strings.Contains(body, "ca-1") })
	}
	out, err = w.apply(z1, fmt.Sprintf(paymentsGatewayDP, "127.0.1.10")+`---
type: ZoneIngress
name: ingress
networking: {address: 127.0.0.1, port: 10001, advertisedAddress: 203.0.113.1, advertisedPort: 10001}
`)
	require.NoError(t, err, out)
	out, err = w.apply(z2, `type: Dataplane
mesh: shop
name: cart-1
networking:
  address: 127.0.2.20
  inbound: [{port: 8080, tags: {kuma.io/service: cart, kuma.io/protocol: http}}]
  outbound: [{port: 9080, tags: {kuma.io/service: payments-gateway, kuma.io/mesh: payments}}]
`)
	require.NoError(t, err, out)
	// Zone 1 offers the listener (with its port) on its ingress; global relays it to zone 2.
	eventuallyGet(t, z2, "/zoneingresses/zone-1.ingress", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"port":"8080"`) && strings.Contains(body, `"mesh":"payments"`)
	})

	const sni = "payments-gateway{mesh=payments,port=8080}"
	cart := w.envoy(z2, "shop", "cart-1")
	c := cart.clusters[crossMeshCluster]
	require.NotNil(t, c, "cart clusters: %v", sortedKeys(cart.clusters))
	up := upstreamTLS(t, c)
	require.Equal(t, sni, up.GetSni())
	require.Equal(t, []string{gatewaySPIFFEID}, sanExact(up), "cart checks the gateway's SPIFFE ID, as within a zone")
	require.Equal(t, []string{"203.0.113.1:10001"}, endpointAddrs(cart.endpoints[crossMeshCluster]), "cart reaches the gateway through zone 1's ingress")

	ingress := w.ingressEnvoy(z1, "ingress")
	var routed []string
	for _, l := range ingress.listeners {
		for _, fc := range l.GetFilterChains() {
			if names := fc.GetFilterChainMatch().GetServerNames(); len(names) == 1 && names[0] == sni {
				cluster := tcpProxyOf(t, fc).GetCluster()
				routed = endpointAddrs(ingress.endpoints[cluster])
			}
		}
	}
	require.Equal(t, []string{"127.0.1.10:8080"}, routed, "zone 1's ingress passes the listener's SNI to the gateway: %v", sortedKeys(ingress.listeners))

	gw := w.envoy(z1, "payments", "payments-gateway-1")
	shopTrustedByGateway := spiffeTrustBundle(t, gw, "payments-gateway:HTTP:8080", "shop")
	require.NotEmpty(t, shopTrustedByGateway, "the gateway in zone 1 trusts mesh shop")
	paymentsCA := cart.secrets["mesh_ca:secret:payments"].GetValidationContext().GetTrustedCa().GetInlineString()
	require.NotEmpty(t, paymentsCA, "cart in zone 2 is sent payments' CA")
	mtlsHandshake(t, cart.secrets["identity_cert:secret:shop"], paymentsCA, sni, gatewaySPIFFEID,
		gw.secrets["identity_cert:secret:payments"], shopTrustedByGateway, "spiffe://shop/cart")
}
