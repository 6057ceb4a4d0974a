package explain

import (
	"fmt"
	"sort"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// envoyDefaultTimeout is RouteAction.timeout when unset.
const envoyDefaultTimeout = 15 * time.Second

// routeAction fills in what the matched route does.
func (e *explainer) routeAction(rc *routev3.RouteConfiguration, vh *routev3.VirtualHost, rt *routev3.Route, r *httpRequest) error {
	e.perFilterConfig(rc.GetTypedPerFilterConfig(), vh.GetTypedPerFilterConfig(), rt.GetTypedPerFilterConfig())
	var act *Action
	var err error
	switch a := rt.GetAction().(type) {
	case *routev3.Route_Route:
		act, err = e.forward(rc, vh, rt, a.Route, r)
	case *routev3.Route_Redirect:
		act, err = e.redirect(rt, a.Redirect, r)
	case *routev3.Route_DirectResponse:
		act = &Action{DirectResponse: directResponse(a.DirectResponse)}
	case *routev3.Route_NonForwardingAction:
		e.out.Action = &Action{Serve: true}
		e.out.Reason = "non_forwarding_action: the gRPC server (a proxyless dataplane) handles the request itself"
		return nil
	default:
		e.out.Reason = "the route has no forwarding action: an HTTP filter is expected to answer"
		return nil
	}
	if err != nil {
		return fmt.Errorf("route %q: %w", rt.GetName(), err)
	}
	if act == nil {
		return nil
	}
	// Envoy adds response headers to its own direct responses and redirects as well.
	act.ResponseHeaders = headerChanges(rc.GetMostSpecificHeaderMutationsWins(),
		level{rt.GetResponseHeadersToAdd(), rt.GetResponseHeadersToRemove()},
		level{vh.GetResponseHeadersToAdd(), vh.GetResponseHeadersToRemove()},
		level{rc.GetResponseHeadersToAdd(), rc.GetResponseHeadersToRemove()})
	e.out.Action = act
	return nil
}

func (e *explainer) forward(rc *routev3.RouteConfiguration, vh *routev3.VirtualHost, rt *routev3.Route, ra *routev3.RouteAction, r *httpRequest) (*Action, error) {
	act := &Action{}
	notFound := clusterNotFoundStatus(ra.GetClusterNotFoundResponseCode())
	switch cs := ra.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		act.Forward = []Backend{e.backend(cs.Cluster, 1, notFound)}
	case *routev3.RouteAction_ClusterHeader:
		name, _ := r.first(asciiLower(cs.ClusterHeader))
		if name == "" {
			e.out.note("the request has no %s header to name the cluster", cs.ClusterHeader)
		}
		b := e.backend(name, 1, notFound)
		b.FromHeader = cs.ClusterHeader
		act.Forward = []Backend{b}
	case *routev3.RouteAction_WeightedClusters:
		for _, c := range cs.WeightedClusters.GetClusters() {
			if c == nil {
				continue
			}
			name := c.GetName()
			if h := c.GetClusterHeader(); h != "" {
				name, _ = r.first(asciiLower(h))
			}
			b := e.backend(name, c.GetWeight().GetValue(), notFound)
			b.FromHeader = c.GetClusterHeader()
			b.RequestHeaders = headerChanges(false, level{c.GetRequestHeadersToAdd(), c.GetRequestHeadersToRemove()})
			e.perFilterConfig(c.GetTypedPerFilterConfig())
			act.Forward = append(act.Forward, b)
		}
	case *routev3.RouteAction_ClusterSpecifierPlugin, *routev3.RouteAction_InlineClusterSpecifierPlugin:
		e.out.note("the route picks its cluster with a cluster specifier plugin, which explain does not run")
	default:
		e.out.note("the route names no cluster (Envoy rejects such a route)")
	}

	if err := e.rewrite(act, rt, ra, r); err != nil {
		return nil, err
	}
	act.RequestHeaders = headerChanges(rc.GetMostSpecificHeaderMutationsWins(),
		level{rt.GetRequestHeadersToAdd(), rt.GetRequestHeadersToRemove()},
		level{vh.GetRequestHeadersToAdd(), vh.GetRequestHeadersToRemove()},
		level{rc.GetRequestHeadersToAdd(), rc.GetRequestHeadersToRemove()})

	// Mirror policies are inherited whole: the route's, else the virtual host's, else the
	// route configuration's.
	mirrors := ra.GetRequestMirrorPolicies()
	if len(mirrors) == 0 {
		mirrors = vh.GetRequestMirrorPolicies()
	}
	if len(mirrors) == 0 {
		mirrors = rc.GetRequestMirrorPolicies()
	}
	for _, m := range mirrors {
		if m == nil {
			continue
		}
		name := m.GetCluster()
		if h := m.GetClusterHeader(); h != "" {
			name, _ = r.first(asciiLower(h))
		}
		pct := 100.0
		if rf := m.GetRuntimeFraction(); rf != nil {
			pct = percent(rf.GetDefaultValue())
		}
		act.Mirrors = append(act.Mirrors, Mirror{Cluster: name, Percent: pct, Missing: e.cluster(name) == nil})
	}

	act.Timeout = formatDuration(ra.GetTimeout())
	if ra.GetTimeout() == nil {
		act.Timeout = envoyDefaultTimeout.String()
	}
	if d := ra.GetIdleTimeout(); d != nil {
		act.IdleTimeout = formatDuration(d)
	}
	rp := ra.GetRetryPolicy()
	if rp == nil {
		rp = vh.GetRetryPolicy()
	}
	if rp != nil {
		act.Retry = describeRetry(rp)
	}
	act.RateLimit = e.routeRateLimit(rc, vh, rt)
	return act, nil
}

func clusterNotFoundStatus(c routev3.RouteAction_ClusterNotFoundResponseCode) uint32 {
	switch c {
	case routev3.RouteAction_NOT_FOUND:
		return 404
	case routev3.RouteAction_INTERNAL_SERVER_ERROR:
		return 500
	}
	return 503
}

// perFilterConfig records the HTTP filters configured per route for this request.
func (e *explainer) perFilterConfig(levels ...map[string]*anypb.Any) {
	seen := map[string]bool{}
	for _, n := range e.out.PerFilterConfig {
		seen[n] = true
	}
	for _, l := range levels {
		for n := range l {
			if !seen[n] {
				seen[n] = true
				e.out.PerFilterConfig = append(e.out.PerFilterConfig, n)
			}
		}
	}
	sort.Strings(e.out.PerFilterConfig)
}

func formatDuration(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	if !d.IsValid() {
		return fmt.Sprintf("%ds", d.GetSeconds())
	}
	if d.AsDuration() == 0 {
		return "disabled"
	}
	return d.AsDuration().String()
}
