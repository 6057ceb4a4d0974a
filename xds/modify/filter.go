package modify

import (
	"fmt"
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

var filterOps = []api.ModificationOperation{api.OpAddFirst, api.OpAddLast, api.OpAddBefore, api.OpAddAfter, api.OpPatch, api.OpRemove}

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
		terminal: envoyres.IsTerminalNetwork,
		withConfig: func(f *listenerv3.Filter, tc *anypb.Any) *listenerv3.Filter {
			f2 := proto.Clone(f).(*listenerv3.Filter)
			f2.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: tc}
			return f2
		},
		lists: func(l *listenerv3.Listener, each func([]*listenerv3.Filter) ([]*listenerv3.Filter, bool, error)) (int, bool, error) {
			n, changed := 0, false
			for _, c := range envoyres.FilterChains(l) {
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
		terminal: envoyres.IsRouter,
		withConfig: func(f *hcmv3.HttpFilter, tc *anypb.Any) *hcmv3.HttpFilter {
			f2 := proto.Clone(f).(*hcmv3.HttpFilter)
			f2.ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: tc}
			return f2
		},
		lists: func(l *listenerv3.Listener, each func([]*hcmv3.HttpFilter) ([]*hcmv3.HttpFilter, bool, error)) (int, bool, error) {
			n, changed := 0, false
			for _, c := range envoyres.FilterChains(l) {
				for _, f := range c.Filters {
					h := envoyres.HTTPConnectionManager(f)
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
