package translate

import (
	"cmp"
	"net/netip"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
)

// lbMetadataNamespace is where Envoy's subset load balancer looks for endpoint tags.
const lbMetadataNamespace = "envoy.lb"

// loadAssignment is emitted for every EDS cluster, even one without endpoints: an EDS cluster
// whose assignment never arrives stays warming until Envoy's fetch timeout, while an empty one
// answers 503 at once; the snapshot's consistency check also wants one per EDS cluster. STATIC
// and STRICT_DNS clusters carry theirs inline (see discovery).
func loadAssignment(c ir.Cluster) *endpointv3.ClusterLoadAssignment {
	out := &endpointv3.ClusterLoadAssignment{ClusterName: c.Name}
	if len(c.Endpoints) == 0 {
		return out
	}
	eps := slices.Clone(c.Endpoints)
	// Endpoints come from the model's maps; a fixed order keeps the snapshot hash stable.
	slices.SortStableFunc(eps, func(a, b ir.Endpoint) int {
		if d := compareAddr(a.Address, b.Address); d != 0 {
			return d
		}
		return cmp.Compare(a.Port, b.Port)
	})
	out.Endpoints = localityGroups(eps)
	return out
}

func lbEndpoint(e ir.Endpoint) *endpointv3.LbEndpoint {
	out := &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: socketAddress(e.Address, e.Port),
		}},
	}
	if e.Weight > 0 {
		out.LoadBalancingWeight = wrapperspb.UInt32(e.Weight)
	}
	tags := make(map[string]*structpb.Value, len(e.Tags))
	for k, v := range e.Tags {
		if k != api.ServiceTag {
			tags[k] = structpb.NewStringValue(v)
		}
	}
	if len(tags) > 0 {
		out.Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
			lbMetadataNamespace: {Fields: tags},
		}}
	}
	return out
}

// compareAddr orders IPs numerically (10.0.0.2 before 10.0.0.10), anything unparsable after
// them by text; validation makes the latter unreachable but the order stays total.
func compareAddr(a, b string) int {
	ia, errA := netip.ParseAddr(a)
	ib, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return ia.Compare(ib)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	default:
		return cmp.Compare(a, b)
	}
}
