package modify

import (
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func (a *applier) virtualHost(path string, m *api.ProxyTemplateVirtualHost) {
	mt := api.ProxyTemplateVirtualHostMatch{}
	if m.Match != nil {
		mt = *m.Match
	}
	value := &routev3.VirtualHost{}
	switch m.Operation {
	case api.OpAdd, api.OpPatch:
		if err := parseValue(m.Value, value); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
	case api.OpRemove:
	default:
		a.reject(path+".operation", "%s", badResourceOp(m.Operation))
		return
	}
	vhMatches := func(vh *routev3.VirtualHost) bool { return mt.Name == "" || vh.GetName() == mt.Name }
	next := shallow(a.res)
	var touched []proto.Message
	configs := 0
	for i, rc := range next.Routes {
		if mt.RouteConfigurationName != "" && rc.GetName() != mt.RouteConfigurationName ||
			mt.Origin != "" && !listenerOrigin(rc.GetName(), mt.Origin) {
			continue
		}
		configs++
		rc2 := proto.Clone(rc).(*routev3.RouteConfiguration)
		changed := false
		switch m.Operation {
		case api.OpAdd:
			if slices.ContainsFunc(rc2.VirtualHosts, func(vh *routev3.VirtualHost) bool { return vh.GetName() == value.GetName() }) {
				a.reject(path+".value", "route configuration %q already has a virtual host named %q", rc2.GetName(), value.GetName())
				return
			}
			rc2.VirtualHosts = append(rc2.VirtualHosts, proto.Clone(value).(*routev3.VirtualHost))
			changed = true
		case api.OpPatch:
			for _, vh := range rc2.VirtualHosts {
				if vhMatches(vh) {
					merge(vh, value)
					changed = true
				}
			}
		case api.OpRemove:
			n := len(rc2.VirtualHosts)
			rc2.VirtualHosts = slices.DeleteFunc(rc2.VirtualHosts, vhMatches)
			changed = len(rc2.VirtualHosts) != n
		}
		if changed {
			next.Routes[i] = rc2
			touched = append(touched, rc2)
		}
	}
	switch {
	case configs == 0:
		a.noop(path+".match", "matches no route configuration%s%s", describe("routeConfigurationName", mt.RouteConfigurationName, "origin", mt.Origin), originHint(mt.Origin))
		return
	case len(touched) == 0:
		a.noop(path+".match.name", "no virtual host named %q in the matched route configurations", mt.Name)
		return
	}
	a.commit(path, next, touched)
}
