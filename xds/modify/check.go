package modify

import (
	"fmt"
	"sort"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// visit calls fn on m and on every message inside it, including the messages packed in Anys
// whose type is linked in. onAny, when set, is called with each Any first; an error from it
// stops the walk there.
func visit(m protoreflect.Message, fn func(protoreflect.Message), onAny func(*anypb.Any) error) error {
	if fn != nil {
		fn(m)
	}
	if a, ok := m.Interface().(*anypb.Any); ok {
		if onAny != nil {
			if err := onAny(a); err != nil {
				return err
			}
		}
		inner, err := a.UnmarshalNew()
		if err != nil {
			// An unknown type is caught when a value is parsed; generated resources only
			// use linked-in types.
			return nil
		}
		return visit(inner.ProtoReflect(), fn, onAny)
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(_ protoreflect.MapKey, e protoreflect.Value) bool {
				err = visit(e.Message(), fn, onAny)
				return err == nil
			})
		case fd.IsList():
			if fd.Message() == nil {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = visit(l.Get(i).Message(), fn, onAny)
			}
		case fd.Message() != nil:
			err = visit(v.Message(), fn, onAny)
		}
		return err == nil
	})
	return err
}

type validator interface{ ValidateAll() error }

// validateDeep runs Envoy's field validation on m and on every typed config packed inside it
// (ValidateAll does not look into Anys).
func validateDeep(m proto.Message) error {
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return err
		}
	}
	return visit(m.ProtoReflect(), nil, func(a *anypb.Any) error {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return unknownType(a.GetTypeUrl())
		}
		if v, ok := inner.(validator); ok {
			if err := v.ValidateAll(); err != nil {
				return fmt.Errorf("%s: %w", inner.ProtoReflect().Descriptor().FullName(), err)
			}
		}
		return nil
	})
}

func chainLabel(l *listenerv3.Listener, i int, c *listenerv3.FilterChain) string {
	if c.GetName() != "" {
		return fmt.Sprintf("filter chain %q of listener %q", c.GetName(), l.GetName())
	}
	return fmt.Sprintf("filter chain %d of listener %q", i, l.GetName())
}

// facts are what the consistency checks need from one listener or route configuration. They
// are cached by pointer: Apply never changes a resource once it is in a set, it replaces it.
type facts struct {
	rds      []string
	clusters []string
	local    []string
}

type checker struct {
	cache map[proto.Message]*facts
}

func newChecker() *checker { return &checker{cache: map[proto.Message]*facts{}} }

func (c *checker) facts(m proto.Message) *facts {
	if f, ok := c.cache[m]; ok {
		return f
	}
	f := &facts{clusters: clusterRefs(m)}
	switch r := m.(type) {
	case *listenerv3.Listener:
		f.rds, f.local = listenerFacts(r)
	case *routev3.RouteConfiguration:
		f.local = routeFacts(r)
	}
	c.cache[m] = f
	return f
}

// clusterRefs lists the clusters a resource names: `cluster` and `cluster_name` fields (route
// actions, mirrors, tcp_proxy, gRPC services, HTTP URIs, access log sinks),
// `collector_cluster`, `cluster_names` and the names of weighted clusters.
func clusterRefs(m proto.Message) []string {
	set := map[string]bool{}
	_ = visit(m.ProtoReflect(), func(msg protoreflect.Message) {
		weighted := strings.HasSuffix(string(msg.Descriptor().FullName()), ".ClusterWeight")
		fields := msg.Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if fd.Kind() != protoreflect.StringKind || fd.IsMap() || !msg.Has(fd) {
				continue
			}
			n := fd.Name()
			switch {
			case fd.IsList():
				if n == "cluster_names" {
					l := msg.Get(fd).List()
					for j := 0; j < l.Len(); j++ {
						set[l.Get(j).String()] = true
					}
				}
			case n == "cluster" || n == "cluster_name" || n == "collector_cluster" || weighted && n == "name":
				if s := msg.Get(fd).String(); s != "" {
					set[s] = true
				}
			}
		}
	}, nil)
	return sortedKeys(set)
}

// listenerFacts returns the route configurations a listener's HTTP connection managers load
// over RDS (envoyres.RouteConfigNames) and the problems of its filter order: a terminal filter must end each filter chain
// and the router each HTTP filter chain, and neither may appear anywhere else.
func listenerFacts(l *listenerv3.Listener) (rds, local []string) {
	for i, c := range envoyres.FilterChains(l) {
		label := chainLabel(l, i, c)
		fs := c.GetFilters()
		for j, f := range fs {
			last := j == len(fs)-1
			switch term := envoyres.IsTerminalNetwork(f); {
			case term && !last:
				local = append(local, fmt.Sprintf("%s: terminal filter %q must be the last", label, f.GetName()))
			case !term && last:
				local = append(local, fmt.Sprintf("%s: ends with %q, which is not a terminal filter", label, f.GetName()))
			}
			h := envoyres.HTTPConnectionManager(f)
			if h == nil {
				continue
			}
			hfs := h.GetHttpFilters()
			if len(hfs) == 0 {
				local = append(local, fmt.Sprintf("%s: HTTP connection manager %q has no HTTP filters; the router must be last", label, f.GetName()))
			}
			for k, hf := range hfs {
				hlast := k == len(hfs)-1
				switch r := envoyres.IsRouter(hf); {
				case r && !hlast:
					local = append(local, fmt.Sprintf("%s: the router %q must be the last HTTP filter", label, hf.GetName()))
				case !r && hlast:
					local = append(local, fmt.Sprintf("%s: HTTP filters end with %q, not with the router", label, hf.GetName()))
				}
			}
		}
	}
	return envoyres.RouteConfigNames(l), local
}

// routeFacts returns the problems Envoy rejects a route configuration for beyond its field
// rules: two virtual hosts with one name or one domain.
func routeFacts(r *routev3.RouteConfiguration) []string {
	var local []string
	vhNames := map[string]bool{}
	domains := map[string]string{}
	for _, vh := range r.GetVirtualHosts() {
		if vhNames[vh.GetName()] {
			local = append(local, fmt.Sprintf("route configuration %q: two virtual hosts are named %q", r.GetName(), vh.GetName()))
		}
		vhNames[vh.GetName()] = true
		for _, d := range vh.GetDomains() {
			d = strings.ToLower(d)
			if other, ok := domains[d]; ok {
				local = append(local, fmt.Sprintf("route configuration %q: domain %q is in virtual hosts %q and %q", r.GetName(), d, other, vh.GetName()))
				continue
			}
			domains[d] = vh.GetName()
		}
	}
	return local
}

// issue is a consistency problem and the resources (`kind/name`) that cause it.
type issue struct {
	msg  string
	keys []string
}

func key(kind, name string) string { return kind + "/" + name }

// issues returns every consistency problem of a resource set (see the package doc).
func (c *checker) issues(r *envoyres.Resources) []issue {
	var out []issue
	add := func(msg string, keys ...string) { out = append(out, issue{msg: msg, keys: keys}) }

	dup := func(kind string, names []string) map[string]bool {
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				add(fmt.Sprintf("two %ss are named %q", kind, n), key(kind, n))
			}
			seen[n] = true
		}
		return seen
	}
	dup(kindListener, namesOf(r.Listeners))
	routes := dup(kindRoute, namesOf(r.Routes))
	clusters := dup(kindCluster, namesOf(r.Clusters))
	endpoints := dup(kindEndpoint, namesOf(r.Endpoints))
	dup(kindSecret, namesOf(r.Secrets))

	// EDS: every EDS cluster has its assignment, and every assignment its cluster.
	eds := map[string]bool{}
	for _, cl := range r.Clusters {
		svc := envoyres.EDSServiceName(cl)
		if svc == "" {
			continue
		}
		eds[svc] = true
		if !endpoints[svc] {
			add(fmt.Sprintf("cluster %q takes its endpoints over EDS, but there is no ClusterLoadAssignment %q", cl.GetName(), svc), key(kindCluster, cl.GetName()))
		}
	}
	for _, e := range r.Endpoints {
		if !eds[e.GetClusterName()] {
			add(fmt.Sprintf("ClusterLoadAssignment %q belongs to no EDS cluster", e.GetClusterName()), key(kindEndpoint, e.GetClusterName()))
		}
	}

	// RDS, cluster references and each resource's own problems.
	rds := map[string]bool{}
	for _, l := range r.Listeners {
		f := c.facts(l)
		k := key(kindListener, l.GetName())
		for _, n := range f.rds {
			rds[n] = true
			if !routes[n] {
				add(fmt.Sprintf("listener %q loads route configuration %q, which does not exist", l.GetName(), n), k)
			}
		}
		for _, n := range f.clusters {
			if !clusters[n] {
				add(fmt.Sprintf("listener %q references cluster %q, which does not exist", l.GetName(), n), k)
			}
		}
		for _, m := range f.local {
			add(m, k)
		}
	}
	for _, rc := range r.Routes {
		f := c.facts(rc)
		k := key(kindRoute, rc.GetName())
		if !rds[rc.GetName()] {
			add(fmt.Sprintf("route configuration %q is loaded by no listener", rc.GetName()), k)
		}
		for _, n := range f.clusters {
			if !clusters[n] {
				add(fmt.Sprintf("route configuration %q references cluster %q, which does not exist", rc.GetName(), n), k)
			}
		}
		for _, m := range f.local {
			add(m, k)
		}
	}

	// Two listeners binding one address.
	bound := map[string]string{}
	for _, l := range r.Listeners {
		if b := l.GetBindToPort(); b != nil && !b.GetValue() {
			continue
		}
		sa := l.GetAddress().GetSocketAddress()
		if sa == nil {
			continue
		}
		addr := fmt.Sprintf("%s %s:%d", strings.ToLower(sa.GetProtocol().String()), sa.GetAddress(), sa.GetPortValue())
		if other, ok := bound[addr]; ok {
			a, b := other, l.GetName()
			if b < a {
				a, b = b, a
			}
			add(fmt.Sprintf("listeners %q and %q both bind %s", a, b, addr), key(kindListener, other), key(kindListener, l.GetName()))
			continue
		}
		bound[addr] = l.GetName()
	}
	return out
}

func namesOf[T proto.Message](list []T) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = resourceName(m)
	}
	return out
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Check returns every problem Apply's checks find in res as a whole: resources that fail
// Envoy's field validation (typed configs included) and consistency problems. Apply only blames
// a modification for problems it adds, so meshgate's own output should have none; the golden
// tests hold it to that.
func Check(res *envoyres.Resources) []string {
	var out []string
	validate := func(ms []proto.Message) {
		for _, m := range ms {
			if err := validateDeep(m); err != nil {
				out = append(out, fmt.Sprintf("%s %q: %v", resourceKind(m), resourceName(m), err))
			}
		}
	}
	validate(messages(res.Listeners))
	validate(messages(res.Routes))
	validate(messages(res.Clusters))
	validate(messages(res.Endpoints))
	validate(messages(res.Secrets))
	for _, is := range newChecker().issues(res) {
		out = append(out, is.msg)
	}
	return out
}

func messages[T proto.Message](list []T) []proto.Message {
	out := make([]proto.Message, len(list))
	for i, m := range list {
		out[i] = m
	}
	return out
}
