package translate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestLoadAssignmentWithoutEndpoints(t *testing.T) {
	out := loadAssignment(ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP})
	requireValid(t, out)
	assert.Equal(t, "api", out.GetClusterName())
	assert.Empty(t, out.GetEndpoints())
}

func TestLoadAssignmentSortsAndMapsEndpoints(t *testing.T) {
	in := ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP, Endpoints: []ir.Endpoint{
		{Address: "10.0.0.10", Port: 80, Weight: 2, Tags: map[string]string{"kuma.io/service": "api", "version": "v2", "kuma.io/zone": "east"}},
		{Address: "10.0.0.2", Port: 8080},
		{Address: "10.0.0.2", Port: 80, Tags: map[string]string{"kuma.io/service": "api"}},
		{Address: "fd00::1", Port: 80},
	}}
	before := append([]ir.Endpoint(nil), in.Endpoints...)
	out := loadAssignment(in)
	requireValid(t, out)
	assert.Equal(t, before, in.Endpoints, "input left untouched")

	require.Len(t, out.GetEndpoints(), 1, "one locality group")
	lbs := out.GetEndpoints()[0].GetLbEndpoints()
	require.Len(t, lbs, 4)
	// Numeric address order (10.0.0.2 before 10.0.0.10), then port, IPv4 before IPv6.
	var addrs []string
	var ports []uint32
	for _, lb := range lbs {
		sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
		addrs = append(addrs, sa.GetAddress())
		ports = append(ports, sa.GetPortValue())
	}
	assert.Equal(t, []string{"10.0.0.2", "10.0.0.2", "10.0.0.10", "fd00::1"}, addrs)
	assert.Equal(t, []uint32{80, 8080, 80, 80}, ports)

	assert.Nil(t, lbs[0].GetLoadBalancingWeight(), "weight 0 leaves Envoy's default")
	assert.Nil(t, lbs[0].GetMetadata(), "only kuma.io/service: nothing left to record")
	assert.Equal(t, uint32(2), lbs[2].GetLoadBalancingWeight().GetValue())
	assert.Equal(t, map[string]any{"version": "v2", "kuma.io/zone": "east"},
		lbs[2].GetMetadata().GetFilterMetadata()["envoy.lb"].AsMap())
}
