package build

import (
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
)

const zoneResources = `type: Dataplane
name: web
mesh: default
networking:
  address: 10.0.1.5
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
  outbound: [{port: 10002, tags: {kuma.io/service: api}}]
---
type: Dataplane
name: api-1
mesh: default
networking:
  address: 10.0.1.6
  inbound: [{port: 9090, tags: {kuma.io/service: api, kuma.io/protocol: http}}]
---
type: Dataplane
name: api-2
mesh: default
networking:
  address: 10.0.1.7
  inbound: [{port: 9090, health: {ready: false}, tags: {kuma.io/service: api, kuma.io/protocol: http}}]
---
type: ZoneIngress
name: zone-2.zone-2-ingress
zone: zone-2
networking: {address: 10.0.2.1, port: 10001, advertisedAddress: 203.0.113.2, advertisedPort: 10001}
availableServices:
  - {mesh: default, tags: {kuma.io/service: api, kuma.io/protocol: http}, instances: 2}
  - {mesh: other, tags: {kuma.io/service: api}, instances: 5}
  - {mesh: default, tags: {kuma.io/service: db}, instances: 0}
---
type: ZoneIngress
name: zone-1-ingress
zone: zone-1
networking: {address: 10.0.1.1, port: 10001, advertisedAddress: 203.0.113.1, advertisedPort: 10001}
availableServices:
  - {mesh: default, tags: {kuma.io/service: api}, instances: 1}
`

func TestAvailableServices(t *testing.T) {
	m := sidecarModel(t, zoneResources)
	require.Equal(t, []api.AvailableService{
		{Mesh: "default", Tags: map[string]string{api.ServiceTag: "api", api.ProtocolTag: "http"}, Instances: 1},
		{Mesh: "default", Tags: map[string]string{api.ServiceTag: "web", api.ProtocolTag: "http"}, Instances: 1},
	}, AvailableServices(m, nil), "not-ready inbounds are not instances; every service is listed")
}

func apiEndpoints(t *testing.T, zone string) []ir.Endpoint {
	t.Helper()
	return apiEndpointsIn(t, ingressMTLSMeshes+zoneResources, zone)
}

func apiEndpointsIn(t *testing.T, resources, zone string) []ir.Endpoint {
	t.Helper()
	opts := DefaultOptions()
	opts.Zone = zone
	p, err := Proxy(Request{Model: sidecarModel(t, resources), Mesh: "default", Name: "web", Options: opts})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	for _, c := range p.Clusters {
		if c.Service == "api" {
			return c.Endpoints
		}
	}
	t.Fatalf("no cluster of service api in %+v", p.Clusters)
	return nil
}

func TestRemoteZoneEndpoints(t *testing.T) {
	local := ir.Endpoint{Address: "10.0.1.6", Port: 9090, Weight: 1,
		Tags: map[string]string{api.ServiceTag: "api", api.ProtocolTag: "http"}}
	require.Equal(t, []ir.Endpoint{local}, apiEndpoints(t, ""), "standalone uses no ingress")
	require.Equal(t, []ir.Endpoint{local, {
		Address: "203.0.113.2", Port: 10001, Weight: 2, Tags: map[string]string{api.ServiceTag: "api"},
		Zone: "zone-2", Priority: 1,
	}}, apiEndpoints(t, "zone-1"), "the other zone's ingress, at priority 1; not the own zone's, nor other meshes'")
}

// TestRemoteZoneEndpointsNeedMTLS: without mTLS a client would reach the ingress with no SNI to
// route by, so the other zone's instances are not used, and the dataplane's diagnostics say why.
func TestRemoteZoneEndpointsNeedMTLS(t *testing.T) {
	local := ir.Endpoint{Address: "10.0.1.6", Port: 9090, Weight: 1,
		Tags: map[string]string{api.ServiceTag: "api", api.ProtocolTag: "http"}}
	require.Equal(t, []ir.Endpoint{local}, apiEndpointsIn(t, zoneResources, "zone-1"))
	opts := DefaultOptions()
	opts.Zone = "zone-1"
	p, err := Proxy(Request{Model: sidecarModel(t, zoneResources), Mesh: "default", Name: "web", Options: opts})
	require.NoError(t, err)
	require.NotEmpty(t, p.Diagnostics)
	require.Contains(t, p.Diagnostics[0].Message, "needs mTLS enabled on mesh default")
}
