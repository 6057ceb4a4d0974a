package translate

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/meshgate/meshgate/xds/ir"
)

// discovery sets how Envoy finds the cluster's endpoints, by ir.ClusterType:
//   - EDS: type EDS with eds_cluster_config over ADS (service_name = the cluster name); the
//     endpoints travel as a separate ClusterLoadAssignment (see hasLoadAssignment).
//   - STATIC: type STATIC with the IP endpoints inline in load_assignment.
//   - STRICT_DNS: type STRICT_DNS with the hostname endpoints inline in load_assignment and
//     dns_lookup_family V4_PREFERRED: IPv4 when the name has an A record, else IPv6, so both
//     IPv4-only and IPv6-only external services resolve (V4_ONLY would fail the latter).
//   - ORIGINAL_DST: type ORIGINAL_DST with lb_policy CLUSTER_PROVIDED (Envoy rejects any other
//     policy for it) and no endpoints at all.
func discovery(out *clusterv3.Cluster, c ir.Cluster) {
	if c.BindAddress != "" {
		out.UpstreamBindConfig = &corev3.BindConfig{SourceAddress: &corev3.SocketAddress{
			Address: c.BindAddress, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 0},
		}}
	}
	switch c.Type {
	case ir.ClusterStatic:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		out.LoadAssignment = loadAssignment(c)
	case ir.ClusterStrictDNS:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		out.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
		out.LoadAssignment = loadAssignment(c)
	case ir.ClusterOriginalDst:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST}
		out.LbPolicy = clusterv3.Cluster_CLUSTER_PROVIDED
	default:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		out.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{ServiceName: c.Name, EdsConfig: ads()}
	}
}

// hasLoadAssignment reports whether c travels with a separate ClusterLoadAssignment: only EDS
// clusters do. The snapshot's consistency check wants exactly one per EDS cluster and no other.
func hasLoadAssignment(c ir.Cluster) bool { return c.Type == ir.ClusterEDS }
