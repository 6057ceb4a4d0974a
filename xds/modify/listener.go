package modify

import (
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

func listenerMatches(l *listenerv3.Listener, name, origin string) bool {
	return (name == "" || l.GetName() == name) && (origin == "" || listenerOrigin(l.GetName(), origin))
}

func (a *applier) listener(path string, m *api.ProxyTemplateListener) {
	var name, origin string
	if m.Match != nil {
		name, origin = m.Match.Name, m.Match.Origin
		if len(m.Match.Tags) > 0 {
			a.reject(path+".match.tags", "%s", tagsUnsupported)
			return
		}
	}
	editResources(a, path, m.Operation, m.Value, resourceOps[*listenerv3.Listener]{
		kind:       "listener",
		new:        func() *listenerv3.Listener { return &listenerv3.Listener{} },
		list:       func(r *envoyres.Resources) *[]*listenerv3.Listener { return &r.Listeners },
		matches:    func(l *listenerv3.Listener) bool { return listenerMatches(l, name, origin) },
		unmatched:  describe("name", name, "origin", origin) + originHint(origin),
		dropUnused: a.dropUnusedRoutes,
	})
}

// dropUnusedRoutes removes the route configurations of removed listeners that no remaining
// listener loads.
func (a *applier) dropUnusedRoutes(r *envoyres.Resources, removed []*listenerv3.Listener) {
	unused := map[string]bool{}
	for _, l := range removed {
		for _, n := range a.check.facts(l).rds {
			unused[n] = true
		}
	}
	for _, l := range r.Listeners {
		for _, n := range a.check.facts(l).rds {
			delete(unused, n)
		}
	}
	r.Routes = slices.DeleteFunc(r.Routes, func(rc *routev3.RouteConfiguration) bool { return unused[rc.GetName()] })
}
