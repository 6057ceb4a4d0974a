package explain

import (
	"fmt"
	"sort"
	"strings"
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
	default:
		e.out.note("the route picks its cluster with a cluster specifier plugin, which explain does not run")
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
		act.Retry = &Retry{RetryOn: rp.GetRetryOn(), NumRetries: 1, PerTryTimeout: formatDuration(rp.GetPerTryTimeout())}
		if n := rp.GetNumRetries(); n != nil {
			act.Retry.NumRetries = n.GetValue()
		}
	}
	return act, nil
}

// rewrite computes the upstream :path and :authority as Envoy's
// currentUrlPathAfterRewriteWithMatchedPath and finalizeRequestHeaders do.
func (e *explainer) rewrite(act *Action, rt *routev3.Route, ra *routev3.RouteAction, r *httpRequest) error {
	rw := &Rewrite{}
	act.UpstreamPath = r.path
	switch {
	case ra.GetPrefixRewrite() != "":
		matched := matchedPath(rt.GetMatch(), r)
		rw.Prefix, rw.Replaces = ra.GetPrefixRewrite(), matched
		if len(matched) <= len(r.path) {
			act.UpstreamPath = ra.GetPrefixRewrite() + r.path[len(matched):]
		}
	case ra.GetRegexRewrite() != nil:
		rr := ra.GetRegexRewrite()
		rw.Regex = &RegexRewrite{Pattern: rr.GetPattern().GetRegex(), Substitution: rr.GetSubstitution()}
		p, err := e.replaceAll(rw.Regex.Pattern, rw.Regex.Substitution, r.pathOnly())
		if err != nil {
			return fmt.Errorf("regex_rewrite: %w", err)
		}
		act.UpstreamPath = p + r.path[len(r.pathOnly()):]
	case ra.GetPathRewrite() != "":
		rw.FullPath = ra.GetPathRewrite()
		act.UpstreamPath = rw.FullPath + r.path[len(r.pathOnly()):]
		if strings.Contains(rw.FullPath, "%") {
			e.out.note("path_rewrite %q has substitution formatters, which explain leaves unevaluated", rw.FullPath)
		}
	case ra.GetPathRewritePolicy() != nil:
		e.out.note("the route rewrites the path with a path_rewrite_policy extension, which explain does not run")
	}

	act.UpstreamHost = r.authority
	switch h := ra.GetHostRewriteSpecifier().(type) {
	case *routev3.RouteAction_HostRewriteLiteral:
		rw.Host, act.UpstreamHost = h.HostRewriteLiteral, h.HostRewriteLiteral
	case *routev3.RouteAction_AutoHostRewrite:
		if h.AutoHostRewrite.GetValue() {
			rw.AutoHost = true
			e.autoHost(act)
		}
	case *routev3.RouteAction_HostRewriteHeader:
		rw.HostFromHeader = h.HostRewriteHeader
		if v, ok := r.first(asciiLower(h.HostRewriteHeader)); ok && v != "" {
			act.UpstreamHost = v
		}
	case *routev3.RouteAction_HostRewritePathRegex:
		rw.HostRegex = &RegexRewrite{Pattern: h.HostRewritePathRegex.GetPattern().GetRegex(), Substitution: h.HostRewritePathRegex.GetSubstitution()}
		host, err := e.replaceAll(rw.HostRegex.Pattern, rw.HostRegex.Substitution, r.pathOnly())
		if err != nil {
			return fmt.Errorf("host_rewrite_path_regex: %w", err)
		}
		act.UpstreamHost = host
	}
	if *rw != (Rewrite{}) {
		act.Rewrite = rw
	}
	return nil
}

// autoHost resolves auto_host_rewrite when every endpoint it could pick agrees on a hostname.
func (e *explainer) autoHost(act *Action) {
	hosts := map[string]bool{}
	for _, b := range act.Forward {
		if c := e.cluster(b.Cluster); c != nil {
			for h := range e.endpointHostnames(c) {
				hosts[h] = true
			}
		}
	}
	if len(hosts) == 1 {
		for h := range hosts {
			act.UpstreamHost = h
		}
		return
	}
	e.out.note("auto_host_rewrite: the Host becomes the hostname of the endpoint Envoy picks, when it has one")
}

// matchedPath is the part of :path that prefix_rewrite replaces.
func matchedPath(m *routev3.RouteMatch, r *httpRequest) string {
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return r.path[:min(len(ps.Prefix), len(r.path))]
	case *routev3.RouteMatch_Path:
		return r.path[:min(len(ps.Path), len(r.path))]
	case *routev3.RouteMatch_PathSeparatedPrefix:
		return r.path[:min(len(ps.PathSeparatedPrefix), len(r.path))]
	}
	return r.pathOnly()
}

// redirect computes the Location Envoy sends (RouteEntryImplBase::newUri).
func (e *explainer) redirect(rt *routev3.Route, ra *routev3.RedirectAction, r *httpRequest) (*Action, error) {
	out := &Redirect{StatusCode: redirectStatus(ra.GetResponseCode()), StripQuery: ra.GetStripQuery(), Port: ra.GetPortRedirect()}
	scheme := r.scheme
	switch s := ra.GetSchemeRewriteSpecifier().(type) {
	case *routev3.RedirectAction_HttpsRedirect:
		if s.HttpsRedirect {
			scheme = "https"
		}
	case *routev3.RedirectAction_SchemeRedirect:
		if s.SchemeRedirect != "" {
			scheme = s.SchemeRedirect
		}
	}
	if scheme != r.scheme {
		out.Scheme = scheme
	}

	port := ""
	if ra.GetPortRedirect() != 0 {
		port = fmt.Sprintf(":%d", ra.GetPortRedirect())
	}
	host := ra.GetHostRedirect()
	out.Host = host
	if host == "" {
		host = r.authority
		if p, ok := hostPort(host); ok {
			// The request's port goes when a new one is set, or when it was the old scheme's
			// default and the scheme changes.
			if port != "" || scheme != r.scheme && (r.scheme == "https" && p == "443" || r.scheme == "http" && p == "80") {
				host = stripPort(host)
			}
		}
	}

	path := r.path
	hasQuery := false
	switch p := ra.GetPathRewriteSpecifier().(type) {
	case *routev3.RedirectAction_PathRedirect:
		out.Path = p.PathRedirect
		if strings.Contains(p.PathRedirect, "?") {
			// A query in path_redirect replaces the request's and survives strip_query.
			path, hasQuery = p.PathRedirect, true
		} else {
			path = p.PathRedirect + r.query()
		}
	case *routev3.RedirectAction_PrefixRewrite:
		out.PrefixRewrite = p.PrefixRewrite
		matched := matchedPath(rt.GetMatch(), r)
		path = p.PrefixRewrite + r.path[len(matched):]
	case *routev3.RedirectAction_RegexRewrite:
		out.RegexRewrite = &RegexRewrite{Pattern: p.RegexRewrite.GetPattern().GetRegex(), Substitution: p.RegexRewrite.GetSubstitution()}
		np, err := e.replaceAll(out.RegexRewrite.Pattern, out.RegexRewrite.Substitution, r.pathOnly())
		if err != nil {
			return nil, fmt.Errorf("regex_rewrite: %w", err)
		}
		path = np + r.query()
	case *routev3.RedirectAction_PathRewrite:
		out.Path = p.PathRewrite
		path = p.PathRewrite + r.query()
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if ra.GetStripQuery() && !hasQuery {
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
	}
	out.Location = scheme + "://" + host + port + path
	return &Action{Redirect: out}, nil
}

func directResponse(d *routev3.DirectResponseAction) *DirectResponse {
	out := &DirectResponse{Status: int(d.GetStatus())}
	b := d.GetBody()
	switch {
	case b.GetInlineString() != "":
		out.Body = b.GetInlineString()
	case len(b.GetInlineBytes()) > 0:
		out.Body = string(b.GetInlineBytes())
	case b.GetFilename() != "":
		out.BodyFile = b.GetFilename()
	case b.GetEnvironmentVariable() != "":
		out.BodyFile = "$" + b.GetEnvironmentVariable()
	}
	return out
}

func redirectStatus(c routev3.RedirectAction_RedirectResponseCode) int {
	switch c {
	case routev3.RedirectAction_FOUND:
		return 302
	case routev3.RedirectAction_SEE_OTHER:
		return 303
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		return 307
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		return 308
	}
	return 301
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
