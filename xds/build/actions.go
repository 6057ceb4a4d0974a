package build

import (
	"net/textproto"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// irRoute applies the rule's filters and backends to one entry (docs/kuma-compatibility.md#route-entries filter translation).
func (b *builder) irRoute(e entry) (ir.Route, bool) {
	rule := e.route.Spec.Conf.HTTP.Rules[e.rule]
	// The listener's tags select connection policies (nil outside a gateway listener).
	var tags map[string]string
	if e.host != nil {
		tags = e.host.tags
	}
	r := ir.Route{
		Name:   e.name(),
		Origin: &ir.RouteOrigin{Mesh: e.route.Mesh, Route: e.route.Name, Rule: e.rule, Match: e.match},
		Match:  e.m,
	}
	fwd := &ir.Forward{PrefixRewrite: e.prefixRewrite, FullPathRewrite: e.fullRewrite}
	for _, f := range rule.Filters {
		switch {
		case f.RequestHeader != nil:
			host := applyHeaders(&r.RequestHeaders, f.RequestHeader, true)
			if host != "" {
				fwd.HostRewrite = host
			}
		case f.ResponseHeader != nil:
			applyHeaders(&r.ResponseHeaders, f.ResponseHeader, false)
		case f.Rewrite != nil:
			if f.Rewrite.ReplaceFull != "" {
				fwd.FullPathRewrite = f.Rewrite.ReplaceFull
			}
			fwd.AutoHostRewrite = f.Rewrite.HostToBackendHostname
		case f.Mirror != nil:
			if pct := *f.Mirror.Percentage; pct > 0 {
				fwd.Mirrors = append(fwd.Mirrors, ir.Mirror{
					Cluster: b.cluster(f.Mirror.Backend.Destination, ir.ClusterHTTP, tags), Percent: pct,
				})
			}
		case f.Redirect != nil:
			r.Redirect = redirect(f.Redirect, e)
		}
	}
	if r.Redirect != nil {
		return r, true
	}
	for _, be := range rule.Backends {
		fwd.Clusters = append(fwd.Clusters, b.weightedCluster(be, tags))
	}
	fwd.Clusters = mergeWeighted(fwd.Clusters)
	var dests []map[string]string
	for _, be := range rule.Backends {
		dests = append(dests, be.Destination)
	}
	b.routePolicies(fwd, dests, tags)
	r.Forward = fwd
	return r, true
}

func redirect(f *api.Redirect, e entry) *ir.Redirect {
	rd := &ir.Redirect{
		Scheme: f.Scheme, Host: f.Hostname, Port: f.Port, StatusCode: f.StatusCode,
		// Kuma always strips the query; keeping it compatible avoids surprising open redirects.
		StripQuery:      true,
		PrefixRewrite:   e.prefixRewrite,
		FullPathRewrite: e.fullRewrite,
	}
	if f.Path != nil && f.Path.ReplaceFull != "" {
		rd.FullPathRewrite = f.Path.ReplaceFull
	}
	if rd.Port == 0 {
		// A scheme change goes to that scheme's port (docs/kuma-compatibility.md#route-entries): Kuma kept the listener's,
		// sending `http://x:8080` to `https://x:8080`, where nothing speaks TLS.
		rd.Port = map[string]uint32{"https": 443, "http": 80}[strings.ToLower(f.Scheme)]
	}
	return rd
}

// applyHeaders records a header filter; it returns the value of a Host/:authority `set`, which
// Envoy can only express as a host rewrite.
func applyHeaders(dst *ir.HeaderMutation, f *api.HeaderFilter, request bool) (host string) {
	for _, h := range f.Set {
		if request && isHostHeader(h.Name) {
			host = h.Value
			continue
		}
		dst.Set = append(dst.Set, ir.Header{Name: textproto.CanonicalMIMEHeaderKey(h.Name), Value: h.Value})
	}
	for _, h := range f.Add {
		dst.Add = append(dst.Add, ir.Header{Name: textproto.CanonicalMIMEHeaderKey(h.Name), Value: h.Value})
	}
	dst.Remove = append(dst.Remove, f.Remove...)
	return host
}

func isHostHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "host" || n == ":authority"
}

func (b *builder) weightedCluster(be api.Backend, listenerTags map[string]string) ir.WeightedCluster {
	// Kuma's marker for a backend that could not be resolved: the route keeps the name so that
	// Envoy answers 500 instead of silently dropping the backend.
	if be.Destination[api.ServiceTag] == names.UnresolvedBackend {
		return ir.WeightedCluster{Name: names.UnresolvedBackend, Weight: be.EffectiveWeight()}
	}
	wc := ir.WeightedCluster{Name: b.cluster(be.Destination, ir.ClusterHTTP, listenerTags), Weight: be.EffectiveWeight()}
	// The tags are for mesh services' policies; an external service gets nothing of ours.
	if v := names.TagsHeaderValue(b.dp.Spec.Networking.Gateway.Tags); v != "" && b.clusters[wc.Name].Type == ir.ClusterEDS {
		wc.RequestHeadersToAdd = []ir.Header{{Name: names.TagsHeader, Value: v}}
	}
	return wc
}
