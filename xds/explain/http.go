package explain

import (
	"errors"
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/meshgate/meshgate/xds/names"
)

// errUnsupported marks configuration explain cannot interpret; the route carrying it is
// reported in the notes and treated as not matching rather than failing the explanation.
var errUnsupported = errors.New("not interpreted by explain")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errUnsupported)
}

// explainHTTP follows the connection manager: route configuration, virtual host, first
// matching route, action.
func (e *explainer) explainHTTP(hcm *hcmv3.HttpConnectionManager, c conn) error {
	for _, f := range hcm.GetHttpFilters() {
		if f != nil {
			e.out.HTTPFilters = append(e.out.HTTPFilters, f.GetName())
		}
	}
	r, early, err := e.newHTTPRequest(hcm, c)
	if err != nil {
		return err
	}
	if early != nil {
		e.out.Action = early
		return nil
	}
	if allowed, err := e.checkHTTPRBAC(hcm, c); err != nil || !allowed {
		return err
	}
	if err := e.checkFaults(hcm, r); err != nil {
		return err
	}
	rc, err := e.routeConfig(hcm)
	if err != nil || rc == nil {
		return err
	}
	e.out.RouteConfig = rc.GetName()

	vh := selectVirtualHost(rc, r)
	if vh == nil {
		e.out.Action = &Action{DirectResponse: &DirectResponse{Status: 404}}
		e.out.Reason = "no virtual host matches"
		return nil
	}
	e.out.VirtualHost = vh.GetName()
	if vh.GetMatcher() != nil {
		return fmt.Errorf("virtual host %q selects routes with a matcher tree, which explain does not interpret", vh.GetName())
	}
	if redirect := tlsRedirect(vh, r); redirect != nil {
		e.out.Action = &Action{Redirect: redirect}
		e.out.Reason = "the virtual host requires TLS: Envoy redirects to https"
		return nil
	}

	rt, err := e.firstRoute(rc, vh, r)
	if err != nil {
		return err
	}
	if rt == nil {
		e.out.Action = &Action{DirectResponse: &DirectResponse{Status: 404}}
		e.out.Reason = "no route matches"
		return nil
	}
	e.out.EnvoyRoute = rt.GetName()
	e.out.Route = routeRef(rt)
	e.out.Policies = policiesFrom(rt.GetMetadata())
	e.out.Match = describeMatch(rt.GetMatch())
	return e.routeAction(rc, vh, rt, r)
}

// routeConfig is the connection manager's route table: RDS by name, or inline.
func (e *explainer) routeConfig(hcm *hcmv3.HttpConnectionManager) (*routev3.RouteConfiguration, error) {
	switch rs := hcm.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_RouteConfig:
		if rs.RouteConfig == nil {
			return &routev3.RouteConfiguration{}, nil
		}
		return rs.RouteConfig, nil
	case *hcmv3.HttpConnectionManager_Rds:
		name := rs.Rds.GetRouteConfigName()
		for _, rc := range e.res.Routes {
			if rc != nil && rc.GetName() == name {
				return rc, nil
			}
		}
		e.out.RouteConfig = name
		e.out.Reason = fmt.Sprintf("route configuration %q is not among the resources: Envoy keeps the listener warming until it arrives", name)
		return nil, nil
	case *hcmv3.HttpConnectionManager_ScopedRoutes:
		return nil, errors.New("the connection manager uses scoped routes, which explain does not interpret")
	}
	e.out.Reason = "the connection manager names no route configuration"
	return nil, nil
}

// selectVirtualHost is Envoy's RouteMatcher::findVirtualHost. The host is lower-cased and, with
// ignore_port_in_host_matching, stripped of its port. Exact domains win, then suffix wildcards
// (`*.foo.com`, `*-bar.foo.com`) longest first, then prefix wildcards (`foo.*`) longest first,
// then `*`. A wildcard never matches the empty string: `*.foo.com` does not match `.foo.com`.
func selectVirtualHost(rc *routev3.RouteConfiguration, r *httpRequest) *routev3.VirtualHost {
	host := r.authority
	if h := rc.GetVhostHeader(); h != "" {
		host, _ = r.header(asciiLower(h))
	}
	var exact, suffix, prefix, def *routev3.VirtualHost
	suffixLen, prefixLen := -1, -1
	onlyDefault := true
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			if d != "*" {
				onlyDefault = false
			}
		}
	}
	if rc.GetIgnorePortInHostMatching() {
		host = stripPort(host)
	}
	host = asciiLower(host)
	for _, vh := range rc.GetVirtualHosts() {
		if vh == nil {
			continue
		}
		for _, d := range vh.GetDomains() {
			d = asciiLower(d)
			switch {
			case d == "*":
				if def == nil {
					def = vh
				}
			case strings.HasPrefix(d, "*"):
				s := d[1:]
				if len(s) < len(host) && strings.HasSuffix(host, s) && len(s) > suffixLen {
					suffix, suffixLen = vh, len(s)
				}
			case strings.HasSuffix(d, "*"):
				p := d[:len(d)-1]
				if len(p) < len(host) && strings.HasPrefix(host, p) && len(p) > prefixLen {
					prefix, prefixLen = vh, len(p)
				}
			case d == host && exact == nil:
				exact = vh
			}
		}
	}
	switch {
	case onlyDefault:
		// Envoy's fast path: with only `*`, the host is not even looked at.
		return def
	case exact != nil:
		return exact
	case suffix != nil:
		return suffix
	case prefix != nil:
		return prefix
	}
	return def
}

// tlsRedirect is the redirect Envoy sends before routing when the virtual host requires TLS.
// explain treats every request as external (no x-envoy-internal).
func tlsRedirect(vh *routev3.VirtualHost, r *httpRequest) *Redirect {
	switch vh.GetRequireTls() {
	case routev3.VirtualHost_ALL, routev3.VirtualHost_EXTERNAL_ONLY:
		if r.scheme != "https" {
			return &Redirect{Location: "https://" + r.authority + r.path, StatusCode: 301, Scheme: "https"}
		}
	}
	return nil
}

// firstRoute returns the first route of vh that matches r, in order.
func (e *explainer) firstRoute(rc *routev3.RouteConfiguration, vh *routev3.VirtualHost, r *httpRequest) (*routev3.Route, error) {
	for i, rt := range vh.GetRoutes() {
		if rt == nil {
			continue
		}
		ok, err := e.matchRoute(rt, r, rc.GetIgnorePathParametersInPathMatching())
		if errors.Is(err, errUnsupported) {
			e.out.note("route %s skipped: %v", routeLabel(rt, i), err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("virtual host %q, route %s: %w", vh.GetName(), routeLabel(rt, i), err)
		}
		if ok {
			return rt, nil
		}
	}
	return nil, nil
}

func routeLabel(rt *routev3.Route, i int) string {
	if rt.GetName() != "" {
		return fmt.Sprintf("%q", rt.GetName())
	}
	return fmt.Sprintf("#%d", i)
}

// routeRef reads the io.meshgate provenance the translator records on routes.
func routeRef(rt *routev3.Route) *RouteRef {
	o, ok := names.DecodeRouteOrigin(rt.GetMetadata().GetFilterMetadata()[names.MetadataNamespace])
	if !ok {
		return nil
	}
	return &RouteRef{Name: o.Route, Mesh: o.Mesh, Rule: o.Rule, Match: o.Match, EnvoyRoute: rt.GetName()}
}
