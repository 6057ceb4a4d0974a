package modify

import (
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

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
	next := shallow(a.res)
	var touched []proto.Message
	switch m.Operation {
	case api.OpAdd:
		l := &listenerv3.Listener{}
		if err := parseValue(m.Value, l); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		if l.GetName() == "" {
			a.reject(path+".value", "the listener has no name")
			return
		}
		if slices.Contains(namesOf(next.Listeners), l.GetName()) {
			a.reject(path+".value", "a listener named %q already exists (patch it instead)", l.GetName())
			return
		}
		next.Listeners = append(next.Listeners, l)
		touched = append(touched, l)
	case api.OpPatch:
		patch := &listenerv3.Listener{}
		if err := parseValue(m.Value, patch); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		for i, l := range next.Listeners {
			if listenerMatches(l, name, origin) {
				l2 := proto.Clone(l).(*listenerv3.Listener)
				merge(l2, patch)
				next.Listeners[i] = l2
				touched = append(touched, l2)
			}
		}
		if len(touched) == 0 {
			a.noop(path+".match", "matches no listener%s%s", describe("name", name, "origin", origin), originHint(origin))
			return
		}
	case api.OpRemove:
		var removed []*listenerv3.Listener
		next.Listeners = slices.DeleteFunc(next.Listeners, func(l *listenerv3.Listener) bool {
			if listenerMatches(l, name, origin) {
				removed = append(removed, l)
				return true
			}
			return false
		})
		if len(removed) == 0 {
			a.noop(path+".match", "matches no listener%s%s", describe("name", name, "origin", origin), originHint(origin))
			return
		}
		a.dropUnusedRoutes(next, removed)
	default:
		a.reject(path+".operation", "%s", badResourceOp(m.Operation))
		return
	}
	a.commit(path, next, touched)
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
