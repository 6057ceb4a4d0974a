package translate

import (
	"cmp"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/meshgate/meshgate/xds/ir"
)

// localityGroups emits one LocalityLbEndpoints per (priority, zone), local (priority 0, no
// zone) first, so Envoy uses other zones' ingresses only when the local endpoints fail. eps
// is already in a fixed order; the grouping keeps it within each group.
func localityGroups(eps []ir.Endpoint) []*endpointv3.LocalityLbEndpoints {
	type key struct {
		prio uint32
		zone string
	}
	groups := map[key]*endpointv3.LocalityLbEndpoints{}
	var keys []key
	for _, e := range eps {
		k := key{e.Priority, e.Zone}
		g := groups[k]
		if g == nil {
			g = &endpointv3.LocalityLbEndpoints{Priority: e.Priority}
			if e.Zone != "" {
				g.Locality = &corev3.Locality{Zone: e.Zone}
			}
			groups[k] = g
			keys = append(keys, k)
		}
		g.LbEndpoints = append(g.LbEndpoints, lbEndpoint(e))
	}
	slices.SortFunc(keys, func(a, b key) int {
		if d := cmp.Compare(a.prio, b.prio); d != 0 {
			return d
		}
		return cmp.Compare(a.zone, b.zone)
	})
	out := make([]*endpointv3.LocalityLbEndpoints, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}
