package modify

import (
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

func (a *applier) cluster(path string, m *api.ProxyTemplateCluster) {
	var name, origin string
	if m.Match != nil {
		name, origin = m.Match.Name, m.Match.Origin
	}
	editResources(a, path, m.Operation, m.Value, resourceOps[*clusterv3.Cluster]{
		kind: "cluster",
		new:  func() *clusterv3.Cluster { return &clusterv3.Cluster{} },
		list: func(r *envoyres.Resources) *[]*clusterv3.Cluster { return &r.Clusters },
		matches: func(c *clusterv3.Cluster) bool {
			return (name == "" || c.GetName() == name) && (origin == "" || clusterOrigin(c.GetName(), origin))
		},
		unmatched:  describe("name", name, "origin", origin) + originHint(origin),
		dropUnused: dropUnusedEndpoints,
	})
}

// dropUnusedEndpoints removes the assignments of removed clusters that no remaining cluster
// loads: the snapshot may not hold an assignment nothing references.
func dropUnusedEndpoints(r *envoyres.Resources, removed []*clusterv3.Cluster) {
	unused := map[string]bool{}
	for _, c := range removed {
		if s := envoyres.EDSServiceName(c); s != "" {
			unused[s] = true
		}
	}
	for _, c := range r.Clusters {
		delete(unused, envoyres.EDSServiceName(c))
	}
	r.Endpoints = slices.DeleteFunc(r.Endpoints, func(e *endpointv3.ClusterLoadAssignment) bool { return unused[e.GetClusterName()] })
}
