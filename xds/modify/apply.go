package modify

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/snapshot"
)

// Problems are what a ProxyTemplate's author should know, as api.FieldErrors located in the
// template: a raw resource or a modification that was rejected (the message ends with "not
// applied"), or one that changed nothing. Field is the path in its spec
// (`conf.modifications[2].cluster.value`).

// Suffixes of problem messages: rejected, or nothing to do.
const (
	notApplied     = "; not applied"
	nothingChanged = "; nothing changed"
)

// Apply returns a copy of res with pt's raw resources and modifications applied, and the
// problems found on the way (see the package doc). res is never changed. The result is sorted
// by name like translate's, and is a valid, consistent snapshot whenever res was one. An error
// means Apply could not run at all.
func Apply(res *envoyres.Resources, pt *api.ProxyTemplate) (*envoyres.Resources, []api.FieldError, error) {
	if res == nil {
		return nil, nil, errors.New("modify: nil resources")
	}
	if pt == nil {
		return nil, nil, errors.New("modify: nil ProxyTemplate")
	}
	a := &applier{template: &pt.Meta, res: clone(res), check: newChecker()}
	a.base = a.issueSet(a.res)
	if c := pt.Spec.Conf; c != nil {
		if len(c.Imports) == 0 {
			a.problem("conf.imports", "imports empty: meshgate always generates the dataplane's configuration (Kuma would generate only this template's resources); the resources and modifications apply to it")
		}
		a.resources(c.Resources)
		for i, m := range c.Modifications {
			a.modification(fmt.Sprintf("conf.modifications[%d]", i), m)
		}
	}
	sortAll(a.res)
	if _, err := snapshot.New(a.res); err != nil {
		// The checks above should make this impossible; never let a template break the
		// dataplane's configuration.
		a.problem("", fmt.Sprintf("the modified configuration is invalid (%v); the ProxyTemplate is not applied", err))
		return clone(res), a.problems, nil
	}
	return a.res, a.problems, nil
}

type applier struct {
	template *api.Meta
	res      *envoyres.Resources
	problems []api.FieldError
	check    *checker
	// base are the consistency problems res already had, which modifications are not blamed for.
	base map[string]bool
}

func (a *applier) problem(field, msg string) {
	a.problems = append(a.problems, a.template.Problem(field, msg))
}

func (a *applier) reject(field string, format string, args ...any) {
	a.problem(field, fmt.Sprintf(format, args...)+notApplied)
}

func (a *applier) noop(field string, format string, args ...any) {
	a.problem(field, fmt.Sprintf(format, args...)+nothingChanged)
}

func (a *applier) issueSet(r *envoyres.Resources) map[string]bool {
	set := map[string]bool{}
	for _, is := range a.check.issues(r) {
		set[is.msg] = true
	}
	return set
}

// newIssues are the consistency problems next has that the configuration did not have.
func (a *applier) newIssues(next *envoyres.Resources) []issue {
	var out []issue
	for _, is := range a.check.issues(next) {
		if !a.base[is.msg] {
			out = append(out, is)
		}
	}
	return out
}

// commit keeps next if every resource the modification at path touched validates and next is
// as consistent as the configuration was; otherwise it reports why and keeps the old set.
func (a *applier) commit(path string, next *envoyres.Resources, touched []proto.Message) {
	for _, m := range touched {
		if err := validateDeep(m); err != nil {
			a.reject(path, "%s %q would be invalid: %v", resourceKind(m), resourceName(m), err)
			return
		}
	}
	if is := a.newIssues(next); len(is) > 0 {
		msgs := make([]string, len(is))
		for i, x := range is {
			msgs[i] = x.msg
		}
		a.reject(path, "%s", strings.Join(msgs, "; "))
		return
	}
	a.res = next
}

// resources adds conf.resources. Each is decoded and validated on its own; consistency is
// checked for all of them together (an EDS cluster needs its assignment, which is another raw
// resource), dropping the ones that cause a problem until none is left.
func (a *applier) resources(raws []api.ProxyTemplateRawResource) {
	if len(raws) == 0 {
		return
	}
	next := shallow(a.res)
	added := map[string]int{}
	exists := func(kind, name string) bool {
		return slices.Contains(namesOfKind(next, kind), name)
	}
	for i, raw := range raws {
		path := fmt.Sprintf("conf.resources[%d].resource", i)
		r, err := parseRaw(raw.Resource)
		if err != nil {
			a.reject(path, "%v", err)
			continue
		}
		name := resourceName(r.msg)
		switch {
		case name == "":
			setResourceName(r.msg, raw.Name)
			name = raw.Name
		case name != raw.Name:
			a.problem(fmt.Sprintf("conf.resources[%d].name", i), fmt.Sprintf("the %s is named %q in Envoy, which is the name that counts, not %q", r.kind, name, raw.Name))
		}
		if exists(r.kind, name) {
			a.reject(path, "a %s named %q already exists", r.kind, name)
			continue
		}
		if err := validateDeep(r.msg); err != nil {
			a.reject(path, "%s %q is invalid: %v", r.kind, name, err)
			continue
		}
		addResource(next, r.msg)
		added[key(r.kind, name)] = i
	}
	for {
		var culprit issue
		idx := -1
		var k string
		for _, is := range a.newIssues(next) {
			for _, kk := range is.keys {
				if i, ok := added[kk]; ok && (idx < 0 || i < idx) {
					culprit, idx, k = is, i, kk
				}
			}
		}
		if idx < 0 {
			break
		}
		a.reject(fmt.Sprintf("conf.resources[%d].resource", idx), "%s", culprit.msg)
		kind, name, _ := strings.Cut(k, "/")
		removeResource(next, kind, name)
		delete(added, k)
	}
	if len(a.newIssues(next)) > 0 {
		// Not caused by any raw resource alone: keep none of them.
		var idx []int
		for _, i := range added {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		for _, i := range idx {
			a.reject(fmt.Sprintf("conf.resources[%d].resource", i), "the resources together leave the configuration inconsistent")
		}
		return
	}
	a.res = next
}

// modification applies one entry of conf.modifications.
func (a *applier) modification(path string, m api.ProxyTemplateModification) {
	switch {
	case m.Cluster != nil:
		a.cluster(path+".cluster", m.Cluster)
	case m.Listener != nil:
		a.listener(path+".listener", m.Listener)
	case m.NetworkFilter != nil:
		a.networkFilter(path+".networkFilter", m.NetworkFilter)
	case m.HTTPFilter != nil:
		a.httpFilter(path+".httpFilter", m.HTTPFilter)
	case m.VirtualHost != nil:
		a.virtualHost(path+".virtualHost", m.VirtualHost)
	default:
		a.noop(path, "sets no modification type")
	}
}

// clone deep-copies a resource set.
func clone(r *envoyres.Resources) *envoyres.Resources {
	return &envoyres.Resources{
		Listeners: cloneAll(r.Listeners),
		Routes:    cloneAll(r.Routes),
		Clusters:  cloneAll(r.Clusters),
		Endpoints: cloneAll(r.Endpoints),
		Secrets:   cloneAll(r.Secrets),
	}
}

func cloneAll[T proto.Message](in []T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, m := range in {
		out[i] = proto.Clone(m).(T)
	}
	return out
}

// shallow copies the lists, not the resources: a modification replaces a resource it changes
// with a changed clone, so the current set stays as it was until the modification is kept.
func shallow(r *envoyres.Resources) *envoyres.Resources {
	return &envoyres.Resources{
		Listeners: slices.Clone(r.Listeners),
		Routes:    slices.Clone(r.Routes),
		Clusters:  slices.Clone(r.Clusters),
		Endpoints: slices.Clone(r.Endpoints),
		Secrets:   slices.Clone(r.Secrets),
	}
}

func namesOfKind(r *envoyres.Resources, kind string) []string {
	switch kind {
	case kindListener:
		return namesOf(r.Listeners)
	case kindRoute:
		return namesOf(r.Routes)
	case kindCluster:
		return namesOf(r.Clusters)
	case kindEndpoint:
		return namesOf(r.Endpoints)
	case kindSecret:
		return namesOf(r.Secrets)
	}
	return nil
}

func addResource(r *envoyres.Resources, m proto.Message) {
	switch v := m.(type) {
	case *listenerv3.Listener:
		r.Listeners = append(r.Listeners, v)
	case *routev3.RouteConfiguration:
		r.Routes = append(r.Routes, v)
	case *clusterv3.Cluster:
		r.Clusters = append(r.Clusters, v)
	case *endpointv3.ClusterLoadAssignment:
		r.Endpoints = append(r.Endpoints, v)
	case *tlsv3.Secret:
		r.Secrets = append(r.Secrets, v)
	}
}

func removeResource(r *envoyres.Resources, kind, name string) {
	switch kind {
	case kindListener:
		r.Listeners = without(r.Listeners, name)
	case kindRoute:
		r.Routes = without(r.Routes, name)
	case kindCluster:
		r.Clusters = without(r.Clusters, name)
	case kindEndpoint:
		r.Endpoints = without(r.Endpoints, name)
	case kindSecret:
		r.Secrets = without(r.Secrets, name)
	}
}

// without drops the last resource named name (a raw resource is appended after any twin).
func without[T proto.Message](list []T, name string) []T {
	for i := len(list) - 1; i >= 0; i-- {
		if resourceName(list[i]) == name {
			return slices.Delete(slices.Clone(list), i, i+1)
		}
	}
	return list
}

func sortAll(r *envoyres.Resources) {
	byName(r.Listeners)
	byName(r.Routes)
	byName(r.Clusters)
	byName(r.Endpoints)
	byName(r.Secrets)
}

func byName[T proto.Message](list []T) {
	sort.SliceStable(list, func(i, j int) bool { return resourceName(list[i]) < resourceName(list[j]) })
}
