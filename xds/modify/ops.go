package modify

import (
	"fmt"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

const tagsUnsupported = "listener tags are not supported: meshgate's listeners carry no io.kuma.tags metadata"

// describe renders a match for "matches no ..." messages.
func describe(parts ...string) string {
	var out []string
	for i := 0; i+1 < len(parts); i += 2 {
		if parts[i+1] != "" {
			out = append(out, fmt.Sprintf("%s %q", parts[i], parts[i+1]))
		}
	}
	s := ""
	if len(out) > 0 {
		s = " (" + strings.Join(out, ", ") + ")"
	}
	return s
}

// originHint explains why an origin meshgate does not generate matches nothing.
func originHint(origin string) string {
	if origin == "" || slices.Contains(knownOrigins, origin) {
		return ""
	}
	return fmt.Sprintf(": meshgate generates no resources of origin %q (it knows %s)", origin, strings.Join(knownOrigins, ", "))
}

func badResourceOp(op api.ModificationOperation) string {
	return fmt.Sprintf("operation %q is not one of %q, %q, %q", op, api.OpAdd, api.OpPatch, api.OpRemove)
}

var filterOps = []api.ModificationOperation{api.OpAddFirst, api.OpAddLast, api.OpAddBefore, api.OpAddAfter, api.OpPatch, api.OpRemove}

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

// edsService is the assignment an EDS cluster loads, or "".
func edsService(c *clusterv3.Cluster) string {
	t, ok := c.GetClusterDiscoveryType().(*clusterv3.Cluster_Type)
	if !ok || t.Type != clusterv3.Cluster_EDS {
		return ""
	}
	if s := c.GetEdsClusterConfig().GetServiceName(); s != "" {
		return s
	}
	return c.GetName()
}

// dropUnusedEndpoints removes the assignments of removed clusters that no remaining cluster
// loads: the snapshot may not hold an assignment nothing references.
func dropUnusedEndpoints(r *envoyres.Resources, removed []*clusterv3.Cluster) {
	unused := map[string]bool{}
	for _, c := range removed {
		if s := edsService(c); s != "" {
			unused[s] = true
		}
	}
	for _, c := range r.Clusters {
		delete(unused, edsService(c))
	}
	r.Endpoints = slices.DeleteFunc(r.Endpoints, func(e *endpointv3.ClusterLoadAssignment) bool { return unused[e.GetClusterName()] })
}

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

// checkFilterType requires a filter's typed_config to be of the filter family (`network`,
// `http`), or a TypedStruct.
func checkFilterType(tc *anypb.Any, family string) error {
	if tc == nil {
		return nil
	}
	t := typeName(tc)
	if strings.HasPrefix(t, "envoy.extensions.filters."+family+".") || t == "xds.type.v3.TypedStruct" || t == "udpa.type.v1.TypedStruct" {
		return nil
	}
	return fmt.Errorf("typed_config %q is not an Envoy %s filter (envoy.extensions.filters.%s.*)", t, family, family)
}

type named interface {
	proto.Message
	GetName() string
}

// edit applies a filter operation to one list of filters and reports whether it changed.
// addLast goes before a terminal filter that ends the list (the router, tcp_proxy, ...), since
// nothing may follow it; addBefore and addAfter anchor at the first filter named anchor; patch
// and remove act on every filter named anchor (remove on every filter when anchor is empty).
func edit[T named](list []T, op api.ModificationOperation, anchor string, value T, terminal func(T) bool, patch func(T) (T, error)) ([]T, bool, error) {
	add := func(i int) []T { return slices.Insert(slices.Clone(list), i, proto.Clone(value).(T)) }
	switch op {
	case api.OpAddFirst:
		return add(0), true, nil
	case api.OpAddLast:
		if n := len(list); n > 0 && terminal(list[n-1]) {
			return add(n - 1), true, nil
		}
		return add(len(list)), true, nil
	case api.OpAddBefore, api.OpAddAfter:
		i := slices.IndexFunc(list, func(f T) bool { return f.GetName() == anchor })
		if i < 0 {
			return list, false, nil
		}
		if op == api.OpAddAfter {
			i++
		}
		return add(i), true, nil
	case api.OpPatch:
		out := slices.Clone(list)
		changed := false
		for i, f := range out {
			if f.GetName() != anchor {
				continue
			}
			p, err := patch(f)
			if err != nil {
				return nil, false, err
			}
			out[i], changed = p, true
		}
		return out, changed, nil
	case api.OpRemove:
		out := slices.DeleteFunc(slices.Clone(list), func(f T) bool { return anchor == "" || f.GetName() == anchor })
		return out, len(out) != len(list), nil
	}
	return list, false, nil
}

// filterTally counts what a filter modification reached, for its "nothing changed" message.
type filterTally struct {
	listeners, lists int
}

func (a *applier) filterNoop(path, what string, op api.ModificationOperation, anchor, listener, origin string, t filterTally) {
	switch {
	case t.listeners == 0:
		a.noop(path+".match", "matches no listener%s%s", describe("listenerName", listener, "origin", origin), originHint(origin))
	case t.lists == 0 && what == "HTTP filter":
		a.noop(path+".match", "the matched listeners have no HTTP connection manager")
	case t.lists == 0:
		a.noop(path+".match", "the matched listeners have no filter chains")
	case op == api.OpAddFirst || op == api.OpAddLast:
		a.noop(path, "nothing to change")
	default:
		a.noop(path+".match.name", "no %s named %q in the matched listeners", what, anchor)
	}
}

func (a *applier) networkFilter(path string, m *api.ProxyTemplateNetworkFilter) {
	mt := api.ProxyTemplateNetworkFilterMatch{}
	if m.Match != nil {
		mt = *m.Match
	}
	editFilters(a, path, filterModification{
		what: "network filter", family: "network", op: m.Operation, value: m.Value,
		name: mt.Name, listener: mt.ListenerName, origin: mt.Origin, tags: mt.ListenerTags,
	}, filterKind[*listenerv3.Filter]{
		new:      func() *listenerv3.Filter { return &listenerv3.Filter{} },
		terminal: isTerminalNetwork,
		withConfig: func(f *listenerv3.Filter, tc *anypb.Any) *listenerv3.Filter {
			f2 := proto.Clone(f).(*listenerv3.Filter)
			f2.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: tc}
			return f2
		},
		lists: func(l *listenerv3.Listener, each func([]*listenerv3.Filter) ([]*listenerv3.Filter, bool, error)) (int, bool, error) {
			n, changed := 0, false
			for _, c := range chains(l) {
				n++
				out, ch, err := each(c.Filters)
				if err != nil {
					return n, false, err
				}
				if ch {
					c.Filters, changed = out, true
				}
			}
			return n, changed, nil
		},
	})
}

func (a *applier) httpFilter(path string, m *api.ProxyTemplateHTTPFilter) {
	mt := api.ProxyTemplateHTTPFilterMatch{}
	if m.Match != nil {
		mt = *m.Match
	}
	editFilters(a, path, filterModification{
		what: "HTTP filter", family: "http", op: m.Operation, value: m.Value,
		name: mt.Name, listener: mt.ListenerName, origin: mt.Origin, tags: mt.ListenerTags,
	}, filterKind[*hcmv3.HttpFilter]{
		new:      func() *hcmv3.HttpFilter { return &hcmv3.HttpFilter{} },
		terminal: isRouter,
		withConfig: func(f *hcmv3.HttpFilter, tc *anypb.Any) *hcmv3.HttpFilter {
			f2 := proto.Clone(f).(*hcmv3.HttpFilter)
			f2.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: tc}
			return f2
		},
		lists: func(l *listenerv3.Listener, each func([]*hcmv3.HttpFilter) ([]*hcmv3.HttpFilter, bool, error)) (int, bool, error) {
			n, changed := 0, false
			for _, c := range chains(l) {
				for _, f := range c.Filters {
					h := hcm(f)
					if h == nil {
						continue
					}
					n++
					out, ch, err := each(h.HttpFilters)
					if err != nil {
						return n, false, err
					}
					if !ch {
						continue
					}
					h.HttpFilters = out
					tc, err := pack(h)
					if err != nil {
						return n, false, fmt.Errorf("repacking the HTTP connection manager of listener %q: %w", l.GetName(), err)
					}
					f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: tc}
					changed = true
				}
			}
			return n, changed, nil
		},
	})
}

// filterModification is a network or HTTP filter modification, whichever its type.
type filterModification struct {
	what, family           string
	op                     api.ModificationOperation
	value                  string
	name, listener, origin string
	tags                   map[string]string
}

// filterKind is what differs between network filters and HTTP filters: how to make and patch
// one, which one must stay last, and where the lists of them live in a listener (lists calls
// each on every list, stores a changed list back, and counts the lists it saw).
type filterKind[T typedFilter] struct {
	new        func() T
	terminal   func(T) bool
	withConfig func(T, *anypb.Any) T
	lists      func(*listenerv3.Listener, func([]T) ([]T, bool, error)) (int, bool, error)
}

type typedFilter interface {
	named
	GetTypedConfig() *anypb.Any
}

// editFilters applies one filter modification to every listener it matches.
func editFilters[T typedFilter](a *applier, path string, m filterModification, k filterKind[T]) {
	if !slices.Contains(filterOps, m.op) {
		a.reject(path+".operation", "operation %q is not one of %q", m.op, filterOps)
		return
	}
	if len(m.tags) > 0 {
		a.reject(path+".match.listenerTags", "%s", tagsUnsupported)
		return
	}
	value := k.new()
	if m.op != api.OpRemove {
		if err := parseValue(m.value, value); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		if err := checkFilterType(value.GetTypedConfig(), m.family); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
	}
	patch := func(f T) (T, error) {
		tc, err := mergeAny(f.GetTypedConfig(), value.GetTypedConfig())
		if err != nil {
			var zero T
			return zero, err
		}
		return k.withConfig(f, tc), nil
	}
	var editErr error
	each := func(list []T) ([]T, bool, error) {
		out, ch, err := edit(list, m.op, m.name, value, k.terminal, patch)
		if err != nil {
			editErr = err
		}
		return out, ch, err
	}
	next := shallow(a.res)
	var touched []proto.Message
	var t filterTally
	for i, l := range next.Listeners {
		if !listenerMatches(l, m.listener, m.origin) {
			continue
		}
		t.listeners++
		l2 := proto.Clone(l).(*listenerv3.Listener)
		n, changed, err := k.lists(l2, each)
		t.lists += n
		switch {
		case editErr != nil:
			a.reject(path+".value", "%v", editErr)
			return
		case err != nil:
			a.reject(path, "%v", err)
			return
		case changed:
			next.Listeners[i] = l2
			touched = append(touched, l2)
		}
	}
	if len(touched) == 0 {
		a.filterNoop(path, m.what, m.op, m.name, m.listener, m.origin, t)
		return
	}
	a.commit(path, next, touched)
}

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
