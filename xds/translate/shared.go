package translate

import (
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/meshgate/meshgate/xds/ir"
)

// LoadAssignment is the ClusterLoadAssignment of an EDS cluster, as every dataplane gets it:
// endpoints in a fixed order, one locality group per (priority, zone). The proxyless
// translator (xds/translate/proxyless) shares it.
func LoadAssignment(c ir.Cluster) *endpointv3.ClusterLoadAssignment { return loadAssignment(c) }
