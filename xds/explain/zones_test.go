package explain

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/envoyres"
)

func TestBackendNamesTheZoneIngressHop(t *testing.T) {
	c := &clusterv3.Cluster{Name: "api", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}}
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: "api", Endpoints: []*endpointv3.LocalityLbEndpoints{{
		Priority: 1, Locality: &corev3.Locality{Zone: "zone-2"},
		LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: sockAddr("203.0.113.2", 10001)}}}},
	}}}
	e := &explainer{res: &envoyres.Resources{Clusters: []*clusterv3.Cluster{c}, Endpoints: []*endpointv3.ClusterLoadAssignment{cla}}, out: &Result{}}
	b := Backend{Cluster: "api", Service: "api", TLS: &UpstreamTLS{SNI: "api{mesh=default}"}}
	e.noteRemoteZones(c, &b)
	require.Equal(t, []string{`cluster "api" reaches api via the ZoneIngress of zone zone-2 at 203.0.113.2:10001 (priority 1: used when no local endpoint is healthy), SNI api{mesh=default}`}, e.out.Notes)
}
