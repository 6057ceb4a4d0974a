package translate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestLoadAssignmentGroupsByPriorityAndZone(t *testing.T) {
	c := ir.Cluster{Name: "api", Endpoints: []ir.Endpoint{
		{Address: "203.0.113.3", Port: 10001, Weight: 1, Zone: "zone-3", Priority: 1},
		{Address: "10.0.0.2", Port: 8080, Weight: 1},
		{Address: "203.0.113.2", Port: 10001, Weight: 2, Zone: "zone-2", Priority: 1},
		{Address: "10.0.0.1", Port: 8080, Weight: 1},
	}}
	got := loadAssignment(c).GetEndpoints()
	require.Len(t, got, 3)
	require.Zero(t, got[0].GetPriority())
	require.Nil(t, got[0].GetLocality(), "local endpoints carry no zone")
	require.Len(t, got[0].GetLbEndpoints(), 2)
	require.Equal(t, "10.0.0.1", got[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress())
	require.Equal(t, uint32(1), got[1].GetPriority())
	require.Equal(t, "zone-2", got[1].GetLocality().GetZone())
	require.Equal(t, uint32(2), got[1].GetLbEndpoints()[0].GetLoadBalancingWeight().GetValue())
	require.Equal(t, "zone-3", got[2].GetLocality().GetZone())
}
