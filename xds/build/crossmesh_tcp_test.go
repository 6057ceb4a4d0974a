package build

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExplicitOutboundPicksCrossMeshPort: a gateway with an HTTP and a TCP cross-mesh listener
// is one service; an explicit outbound's `port` tag says which listener it means.
func TestExplicitOutboundPicksCrossMeshPort(t *testing.T) {
	resources := `type: Mesh
name: data
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Mesh
name: shop
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: MeshGateway
mesh: data
name: data-gateway
selectors: [{match: {kuma.io/service: data-gateway}}]
conf:
  listeners:
    - {port: 8080, protocol: HTTP, crossMesh: true, hostname: api.data.mesh}
    - {port: 5432, protocol: TCP, crossMesh: true, hostname: postgres.data.mesh}
---
type: Dataplane
mesh: data
name: data-gateway-1
networking:
  address: 10.0.3.10
  gateway: {type: BUILTIN, tags: {kuma.io/service: data-gateway}}
---
type: Dataplane
mesh: shop
name: reports-1
networking:
  address: 10.0.2.40
  inbound: [{port: 8080, tags: {kuma.io/service: reports}}]
  outbound:
    - {port: 15432, tags: {kuma.io/service: data-gateway, kuma.io/mesh: data, port: "5432"}}
    - {port: 18080, tags: {kuma.io/service: data-gateway, kuma.io/mesh: data}}
`
	p, err := Proxy(Request{Model: sidecarModel(t, resources), Mesh: "shop", Name: "reports-1", Options: DefaultOptions()})
	require.NoError(t, err)
	got := map[uint32]string{}
	for _, l := range p.Listeners {
		if len(l.FilterChains) == 1 && l.FilterChains[0].TCP != nil {
			got[l.Port] = l.FilterChains[0].TCP.Clusters[0].Name
		}
	}
	require.Equal(t, "data-gateway{port=5432}_data", got[15432], "the port tag picks the TCP listener")
	require.Equal(t, "data-gateway{port=8080}_data", got[18080], "without one, the first cross-mesh listener")
}
