package explain

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

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
