package modify

import (
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

func (a *applier) cluster(path string, m *api.ProxyTemplateCluster) {
	var name, origin string
	if m.Match != nil {
		name, origin = m.Match.Name, m.Match.Origin
	}
	matches := func(c *clusterv3.Cluster) bool {
		return (name == "" || c.GetName() == name) && (origin == "" || clusterOrigin(c.GetName(), origin))
	}
	next := shallow(a.res)
	var touched []proto.Message
	switch m.Operation {
	case api.OpAdd:
		c := &clusterv3.Cluster{}
		if err := parseValue(m.Value, c); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		if c.GetName() == "" {
			a.reject(path+".value", "the cluster has no name")
			return
		}
		if slices.Contains(namesOf(next.Clusters), c.GetName()) {
			a.reject(path+".value", "a cluster named %q already exists (patch it instead)", c.GetName())
			return
		}
		next.Clusters = append(next.Clusters, c)
		touched = append(touched, c)
	case api.OpPatch:
		patch := &clusterv3.Cluster{}
		if err := parseValue(m.Value, patch); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		for i, c := range next.Clusters {
			if matches(c) {
				c2 := proto.Clone(c).(*clusterv3.Cluster)
				merge(c2, patch)
				next.Clusters[i] = c2
				touched = append(touched, c2)
			}
		}
		if len(touched) == 0 {
			a.noop(path+".match", "matches no cluster%s%s", describe("name", name, "origin", origin), originHint(origin))
			return
		}
	case api.OpRemove:
		var removed []*clusterv3.Cluster
		next.Clusters = slices.DeleteFunc(next.Clusters, func(c *clusterv3.Cluster) bool {
			if matches(c) {
				removed = append(removed, c)
				return true
			}
			return false
		})
		if len(removed) == 0 {
			a.noop(path+".match", "matches no cluster%s%s", describe("name", name, "origin", origin), originHint(origin))
			return
		}
		dropUnusedEndpoints(next, removed)
	default:
		a.reject(path+".operation", "%s", badResourceOp(m.Operation))
		return
	}
	a.commit(path, next, touched)
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
