package build

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

const ingressMTLSMeshes = `type: Mesh
name: default
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Mesh
name: plain
---
type: Dataplane
name: db-1
mesh: plain
networking:
  address: 10.0.1.9
  inbound: [{port: 5432, tags: {kuma.io/service: db}}]
---
`

// TestZoneIngressProxy: the local ingress gets one SNI chain per service of each mTLS mesh
// with ready endpoints, passed through to those endpoints; a mesh without mTLS, a service with
// no ready instance and another zone's ingress contribute nothing.
func TestZoneIngressProxy(t *testing.T) {
	m := sidecarModel(t, ingressMTLSMeshes+zoneResources)
	p, err := ZoneIngress(ZoneIngressRequest{Model: m, Name: "zone-1-ingress"})
	require.NoError(t, err)
	require.Equal(t, ".zone-1-ingress", p.Node)
	require.Len(t, p.Listeners, 1)
	l := p.Listeners[0]
	require.Equal(t, "10.0.1.1", l.Address)
	require.EqualValues(t, 10001, l.Port)
	var chains []string
	for _, fc := range l.FilterChains {
		require.True(t, fc.TransportProtocolTLS, fc.Name)
		require.Nil(t, fc.TLS, "%s: the ingress passes TLS through; the destination's sidecar terminates it", fc.Name)
		require.Len(t, fc.ServerNames, 1)
		chains = append(chains, fc.ServerNames[0]+" -> "+fc.TCP.Clusters[0].Name)
	}
	require.Equal(t, []string{"api{mesh=default} -> default:api", "web{mesh=default} -> default:web"}, chains)
	require.Len(t, p.Clusters, 2)
	require.Equal(t, []ir.Endpoint{{Address: "10.0.1.6", Port: 9090, Weight: 1, Tags: map[string]string{"kuma.io/service": "api", "kuma.io/protocol": "http"}}},
		p.Clusters[0].Endpoints, "only the ready api instance")
	require.Nil(t, p.Clusters[0].MTLS)

	_, err = ZoneIngress(ZoneIngressRequest{Model: m, Name: "missing"})
	require.ErrorContains(t, err, `ZoneIngress "missing": not found`)
}

// TestZoneIngressProxyNothingToReach: with no mTLS service in the zone the ingress has no
// listener (Envoy rejects one without filter chains) rather than an invalid one.
func TestZoneIngressProxyNothingToReach(t *testing.T) {
	m := sidecarModel(t, zoneResources)
	p, err := ZoneIngress(ZoneIngressRequest{Model: m, Name: "zone-1-ingress"})
	require.NoError(t, err)
	require.Empty(t, p.Listeners)
	require.Empty(t, p.Clusters)
}
