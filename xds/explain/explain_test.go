package explain

import (
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func explainOK(t *testing.T, req Request) *Result {
	t.Helper()
	res, err := Explain(gateway(t), req)
	require.NoError(t, err)
	require.NotNil(t, res)
	return res
}

func clusters(a *Action) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, b := range a.Forward {
		out = append(out, b.Cluster)
	}
	return out
}

func TestVirtualHostPrecedence(t *testing.T) {
	for _, tc := range []struct {
		host, vhost string
	}{
		{"www.example.com", "www.example.com"},           // exact beats every wildcard
		{"WWW.Example.COM:8080", "www.example.com"},      // port ignored, case folded
		{"www.example.com:1234", "www.example.com"},      // any port, not just the listener's
		{"a.shop.example.com", "*.shop.example.com"},     // longer suffix first
		{"a.b.shop.example.com", "*.shop.example.com"},   // a wildcard spans labels
		{"shop.example.com", "*.example.com"},            // *.shop... needs a non-empty prefix
		{"baz-bar.example.com", "*-bar.example.com"},     // suffix wildcards need no dot border
		{"-bar.example.com", "*.example.com"},            // the wildcard cannot match ""
		{"bar.example.com", "*.example.com"},             // "*-bar" is not "*bar"
		{"admin.example.com", "*.example.com"},           // suffix wildcards beat prefix ones
		{"admin.shop.example.com", "*.shop.example.com"}, // longest suffix, still before prefixes
		{"ADMIN.corp:8080", "admin.*"},                   // prefix wildcard after folding and port strip
		{"admin.", "any"},                                // "admin.*" needs at least one character
		{"sub.www.example.com", "*.example.com"},         // exact names do not cover subdomains
		{"example.com", "any"},                           // *.example.com is not example.com
		{"www.example.com.", "any"},                      // trailing dot kept: strip_trailing_host_dot is off
		{"shop.example.com.evil.org", "any"},             // suffixes anchor at the end
		{"[2001:db8::1]:8080", "any"},                    // IPv6 literal with port
		{"www.example.com:", "www.example.com"},          // empty port: Envoy still cuts at the last ':'
		{"other.org", "any"},                             // `*` last
	} {
		t.Run(tc.host, func(t *testing.T) {
			r := explainOK(t, Request{Port: 8080, Host: tc.host, Path: "/"})
			assert.Equal(t, tc.vhost, r.VirtualHost)
		})
	}
}

func TestHostPortKeptWithoutIgnorePort(t *testing.T) {
	res := gateway(t)
	res.Routes[0].IgnorePortInHostMatching = false
	r, err := Explain(res, Request{Port: 8080, Host: "www.example.com:8080", Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "any", r.VirtualHost, "www.example.com:8080 is not the domain www.example.com")

	r, err = Explain(res, Request{Port: 8080, Host: "www.example.com", Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "www.example.com", r.VirtualHost)
}

func TestRouteSelection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		headers []Header
		route   string // Envoy route name; "" for Envoy's own 404
		cluster []string
	}{
		{name: "exact path", path: "/exact", route: "exact", cluster: []string{"exact"}},
		{name: "exact path is not a prefix", path: "/exact/more", route: "", cluster: nil},
		{name: "exact path ignores the query", path: "/exact?x=1", route: "exact", cluster: []string{"exact"}},
		{name: "regex matches the whole path", path: "/items/42", route: "items", cluster: []string{"items"}},
		{name: "regex must not match only a part", path: "/items/42/extra", route: "", cluster: nil},
		{name: "regex ignores the query", path: "/items/7?sort=asc", route: "items", cluster: []string{"items"}},
		{name: "first match wins", path: "/api/v2/users", route: "api-v2", cluster: []string{"api-v2"}},
		{name: "prefix is bytes, not segments", path: "/api/v2beta", route: "api-v2", cluster: []string{"api-v2"}},
		{name: "method match", method: "POST", path: "/api/users", route: "api-write", cluster: []string{"api-write"}},
		{name: "method is case sensitive", method: "post", path: "/api/users", route: "api-route/rules[1]/matches[0]", cluster: []string{"api"}},
		{name: "default method GET", path: "/api/users", route: "api-route/rules[1]/matches[0]", cluster: []string{"api"}},
		{name: "synthesised exact for the bare prefix", path: "/api", route: "api-route/rules[1]/matches[0]/exact", cluster: []string{"api"}},
		{name: "prefix is case sensitive", path: "/API/users", route: "", cluster: nil},
		{name: "header present", path: "/h/x", headers: []Header{{"X-Canary", "1"}}, route: "canary", cluster: []string{"canary"}},
		{name: "header present with empty value", path: "/h/x", headers: []Header{{"x-canary", ""}}, route: "canary", cluster: []string{"canary"}},
		{name: "header regex", path: "/h/x", headers: []Header{{"x-env", "staging"}}, route: "env", cluster: []string{"env"}},
		{name: "header regex is a full match", path: "/h/x", headers: []Header{{"x-env", "preprod"}, {"x-legacy", "1"}}, route: "h-default", cluster: []string{"h-default"}},
		{name: "repeated header values are joined with commas", path: "/h/x", headers: []Header{{"x-env", "dev"}, {"x-env", "prod"}, {"x-legacy", "1"}}, route: "h-default", cluster: []string{"h-default"}},
		{name: "inverted match on a present header", path: "/h/x", headers: []Header{{"x-beta", "yes"}}, route: "beta", cluster: []string{"beta"}},
		{name: "inverted match fails on an absent header", path: "/h/x", route: "no-legacy", cluster: []string{"no-legacy"}},
		{name: "inverted match, value excluded", path: "/h/x", headers: []Header{{"x-beta", "no"}}, route: "no-legacy", cluster: []string{"no-legacy"}},
		{name: "present_match false rejects a present header", path: "/h/x", headers: []Header{{"x-legacy", "1"}}, route: "h-default", cluster: []string{"h-default"}},
		{name: "query exact", path: "/q?version=2", route: "q-v2", cluster: []string{"q-v2"}},
		{name: "query present", path: "/q?version=3&debug", route: "q-debug", cluster: []string{"q-debug"}},
		{name: "query present with value", path: "/q?debug=false", route: "q-debug", cluster: []string{"q-debug"}},
		{name: "query regex", path: "/q?id=42", route: "q-id", cluster: []string{"q-id"}},
		{name: "query regex is a full match", path: "/q?id=42x", route: "", cluster: nil},
		{name: "only the first query value counts", path: "/q?version=3&version=2", route: "", cluster: nil},
		{name: "query values are not decoded", path: "/q?version=%32", route: "", cluster: nil},
		{name: "no route", path: "/nowhere", route: "", cluster: nil},
		{name: "path normalised before routing", path: "/a/../api//v2/x", route: "api-v2", cluster: []string{"api-v2"}},
		{name: "dot segments decoded then removed", path: "/x/%2E%2E/exact", route: "exact", cluster: []string{"exact"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := explainOK(t, Request{Port: 8080, Host: "gw.local", Method: tc.method, Path: tc.path, Headers: tc.headers})
			assert.Equal(t, "any", r.VirtualHost)
			assert.Equal(t, tc.route, r.EnvoyRoute)
			assert.Equal(t, tc.cluster, clusters(r.Action))
			if tc.route == "" {
				require.NotNil(t, r.Action)
				require.NotNil(t, r.Action.DirectResponse)
				assert.Equal(t, 404, r.Action.DirectResponse.Status)
				assert.Equal(t, "no route matches", r.Reason)
				assert.Nil(t, r.Route)
			}
		})
	}
}

func TestMeshGatewayRouteAndMatch(t *testing.T) {
	r := explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/api/users?page=2"})
	assert.Equal(t, &RouteRef{Name: "api-route", Mesh: "default", Rule: 1, Match: 0, EnvoyRoute: "api-route/rules[1]/matches[0]"}, r.Route)
	require.NotNil(t, r.Match)
	require.NotNil(t, r.Match.Prefix)
	assert.Equal(t, "/api/", *r.Match.Prefix)

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Method: "POST", Path: "/api/users"})
	require.NotNil(t, r.Match)
	require.Len(t, r.Match.Headers, 1)
	assert.Equal(t, ":method", r.Match.Headers[0].Name)
	assert.Equal(t, "POST", *r.Match.Headers[0].Exact)

	// Envoy's own 404 has no MeshGatewayRoute behind it.
	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/nowhere"})
	assert.Nil(t, r.Route)
	assert.Empty(t, r.EnvoyRoute)
}

func TestForwardDetails(t *testing.T) {
	r := explainOK(t, Request{Port: 8080, Host: "gw.local:8080", Path: "/api/users?page=2", Headers: []Header{{"x-internal", "1"}}})
	a := r.Action
	require.NotNil(t, a)
	require.Len(t, a.Forward, 1)
	b := a.Forward[0]
	assert.Equal(t, "api", b.Cluster)
	assert.Equal(t, uint32(1), b.Weight)
	assert.Equal(t, "api", b.Service)
	assert.Equal(t, map[string]string{"kuma.io/service": "api", "version": "v1"}, b.Destination)
	require.NotNil(t, b.Endpoints)
	assert.Equal(t, 3, *b.Endpoints)
	assert.False(t, b.Missing)

	assert.Equal(t, &Rewrite{Prefix: "/", Replaces: "/api/"}, a.Rewrite)
	assert.Equal(t, "/users?page=2", a.UpstreamPath)
	assert.Equal(t, "gw.local:8080", a.UpstreamHost)
	assert.Equal(t, []Mirror{{Cluster: "api-shadow", Percent: 10}}, a.Mirrors)
	assert.Equal(t, "30s", a.Timeout)
	// Route set x-gateway, but the route configuration is evaluated later and wins.
	assert.Equal(t, &HeaderChanges{
		Set:    []HeaderValue{{Name: "x-gateway", Value: "edge"}},
		Add:    []HeaderValue{{Name: "x-trace", Value: "1"}},
		Remove: []string{"x-internal"},
	}, a.RequestHeaders)
	assert.Equal(t, &HeaderChanges{Set: []HeaderValue{{Name: "strict-transport-security", Value: "max-age=31536000"}}}, a.ResponseHeaders)
	assert.Equal(t, []string{"envoy.filters.network.connection_limit", "envoy.filters.network.http_connection_manager"}, r.Filters)
	assert.Equal(t, []string{"envoy.filters.http.router"}, r.HTTPFilters)
}

func TestMostSpecificHeaderMutationsWins(t *testing.T) {
	res := gateway(t)
	res.Routes[0].MostSpecificHeaderMutationsWins = true
	r, err := Explain(res, Request{Port: 8080, Host: "gw.local", Path: "/api/users"})
	require.NoError(t, err)
	assert.Equal(t, []HeaderValue{{Name: "x-gateway", Value: "route"}}, r.Action.RequestHeaders.Set)
}

func TestRewrites(t *testing.T) {
	for _, tc := range []struct {
		name, path, upstreamPath, upstreamHost string
	}{
		{"prefix rewrite keeps the query", "/api/users?x=1", "/users?x=1", "gw.local"},
		{"prefix rewrite of the exact route", "/api", "/", "gw.local"},
		{"prefix rewrite on a normalised path", "/api/./users/../orders", "/orders", "gw.local"},
		{"full path rewrite", "/full/anything?q=1", "/replaced?q=1", "backend.internal"},
		{"regex groups", "/users/3/posts/7", "/posts/7?user=3", "gw.local"},
		{"no rewrite", "/exact", "/exact", "gw.local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := explainOK(t, Request{Port: 8080, Host: "gw.local", Path: tc.path})
			require.NotNil(t, r.Action)
			assert.Equal(t, tc.upstreamPath, r.Action.UpstreamPath)
			assert.Equal(t, tc.upstreamHost, r.Action.UpstreamHost)
		})
	}
}

func TestRedirectsAndDirectResponses(t *testing.T) {
	for _, tc := range []struct {
		name, host, path string
		tls              bool
		status           int
		location         string
		body             string
	}{
		{name: "prefix rewrite, https, new host, strip query", host: "gw.local:8080", path: "/old/page?x=1", status: 302, location: "https://new.example.com/new/page"},
		{name: "https drops the old scheme's default port", host: "gw.local:80", path: "/secure?a=b", status: 301, location: "https://gw.local/secure?a=b"},
		{name: "https keeps a non-default port", host: "gw.local:8080", path: "/secure", status: 301, location: "https://gw.local:8080/secure"},
		{name: "escaped slash redirects to the unescaped path", host: "gw.local", path: "/api%2Fusers?x=1", status: 307, location: "/api/users?x=1"},
		{name: "direct response", host: "gw.local", path: "/health", status: 200, body: "ok"},
		{name: "no virtual host", host: "other.example.com", path: "/", tls: true, status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{Port: 8080, Host: tc.host, Path: tc.path}
			if tc.tls {
				req = Request{Port: 8443, Host: tc.host, Path: tc.path, SNI: "api.example.com"}
			}
			r := explainOK(t, req)
			require.NotNil(t, r.Action)
			assert.Empty(t, r.Action.Forward)
			if tc.location != "" {
				require.NotNil(t, r.Action.Redirect)
				assert.Equal(t, tc.status, r.Action.Redirect.StatusCode)
				assert.Equal(t, tc.location, r.Action.Redirect.Location)
				return
			}
			require.NotNil(t, r.Action.DirectResponse)
			assert.Equal(t, tc.status, r.Action.DirectResponse.Status)
			assert.Equal(t, tc.body, r.Action.DirectResponse.Body)
		})
	}

	r := explainOK(t, Request{Port: 8443, Host: "other.example.com", SNI: "api.example.com"})
	assert.Equal(t, "edge:HTTPS:8443:api.example.com", r.FilterChain)
	assert.Equal(t, "no virtual host matches", r.Reason)
	assert.Empty(t, r.VirtualHost)
}

func TestRequireTLS(t *testing.T) {
	res := gateway(t)
	res.Routes[0].VirtualHosts[0].RequireTls = routev3.VirtualHost_EXTERNAL_ONLY // explain's requests are external
	r, err := Explain(res, Request{Port: 8080, Host: "www.example.com", Path: "/x?y=1"})
	require.NoError(t, err)
	require.NotNil(t, r.Action.Redirect)
	assert.Equal(t, "https://www.example.com/x?y=1", r.Action.Redirect.Location)
	assert.Equal(t, 301, r.Action.Redirect.StatusCode)
	assert.Empty(t, r.EnvoyRoute)
}

func TestMissingClusterAndEndpoints(t *testing.T) {
	r := explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/broken"})
	require.Len(t, r.Action.Forward, 2)
	assert.Equal(t, "api", r.Action.Forward[0].Cluster)
	assert.Equal(t, uint32(50), r.Action.Forward[0].Weight)
	assert.False(t, r.Action.Forward[0].Missing)
	miss := r.Action.Forward[1]
	assert.Equal(t, Backend{Cluster: "kuma.io/unresolved-backend", Weight: 50, Missing: true, Status: 500}, miss)
	assert.Contains(t, strings.Join(r.Notes, "\n"), `cluster "kuma.io/unresolved-backend" does not exist: Envoy answers 500`)

	// Envoy's default cluster_not_found_response_code is 503.
	res := gateway(t)
	for _, rt := range res.Routes[0].VirtualHosts[5].Routes {
		if rt.GetName() == "broken" {
			rt.GetRoute().ClusterNotFoundResponseCode = 0
		}
	}
	r, err := Explain(res, Request{Port: 8080, Host: "gw.local", Path: "/broken"})
	require.NoError(t, err)
	assert.Equal(t, 503, r.Action.Forward[1].Status)

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/empty"})
	require.NotNil(t, r.Action.Forward[0].Endpoints)
	assert.Equal(t, 0, *r.Action.Forward[0].Endpoints)
	assert.Contains(t, strings.Join(r.Notes, "\n"), `cluster "empty" has no healthy endpoints: Envoy answers 503`)

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/static"})
	assert.Nil(t, r.Action.Forward[0].Endpoints, "DNS clusters resolve at run time")
}

func TestTLSFilterChainSelection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		req   Request
		chain string
		sni   string
		vhost string
	}{
		{"exact server name", Request{Host: "api.example.com:8443"}, "edge:HTTPS:8443:api.example.com", "api.example.com", "api.example.com"},
		{"exact beats wildcard", Request{Host: "API.example.com"}, "edge:HTTPS:8443:api.example.com", "api.example.com", "api.example.com"},
		{"wildcard", Request{Host: "x.example.com"}, "edge:HTTPS:8443:*.example.com", "x.example.com", "*.example.com"},
		{"wildcard spans labels", Request{Host: "a.b.example.com"}, "edge:HTTPS:8443:*.example.com", "a.b.example.com", "*.example.com"},
		{"wildcard needs a label", Request{Host: "example.com"}, "edge:HTTPS:8443:*", "example.com", "*"},
		{"no server_names is the fallback", Request{Host: "other.org"}, "edge:HTTPS:8443:*", "other.org", "*"},
		{"no SNI for an IP literal", Request{Host: "10.0.0.5:8443"}, "edge:HTTPS:8443:*", "", "*"},
		{"explicit SNI wins over Host", Request{Host: "x.example.com", SNI: "api.example.com"}, "edge:HTTPS:8443:api.example.com", "api.example.com", ""},
		{"explicit TLS", Request{Host: "x.example.com", TLS: true}, "edge:HTTPS:8443:*.example.com", "x.example.com", "*.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Port = 8443
			r := explainOK(t, tc.req)
			assert.Equal(t, "edge:HTTPS:8443", r.Listener)
			assert.Equal(t, tc.chain, r.FilterChain)
			require.NotNil(t, r.Connection)
			assert.True(t, r.Connection.TLS)
			assert.Equal(t, tc.sni, r.Connection.SNI)
			assert.Equal(t, tc.vhost, r.VirtualHost)
		})
	}

	r := explainOK(t, Request{Port: 8443, Host: "api.example.com"})
	assert.Contains(t, r.Notes, "TLS assumed: every filter chain of the listener requires it")

	r = explainOK(t, Request{Port: 8443, Host: "api.example.com", Plaintext: true})
	assert.Empty(t, r.FilterChain)
	assert.Equal(t, &Action{Close: true}, r.Action)
	assert.Equal(t, "no filter chain matches transport protocol raw_buffer: Envoy closes the connection", r.Reason)

	// TLS to a plaintext-only listener: SNI "x" finds no chain naming it, falls back to the
	// chain without server_names, which does not constrain the transport protocol either.
	r = explainOK(t, Request{Port: 8080, Host: "gw.local", TLS: true})
	assert.Equal(t, "edge:HTTP:8080:*", r.FilterChain)
}

func TestFilterChainPrecedenceSteps(t *testing.T) {
	res := gateway(t)
	l := res.Listeners[1]
	// A chain requiring the "kuma" ALPN, for the same server name as the exact chain.
	kuma := httpsChain(t, "kuma", "edge:HTTPS:8443:*", "mesh.example.com")
	kuma.FilterChainMatch.ApplicationProtocols = []string{"kuma"}
	l.FilterChains = append(l.FilterChains, kuma)

	r, err := Explain(res, Request{Port: 8443, Host: "mesh.example.com", ALPN: []string{"kuma"}})
	require.NoError(t, err)
	assert.Equal(t, "kuma", r.FilterChain)

	// Server name is decided before ALPN and never revisited: mesh.example.com picks the
	// "kuma" chain, which the default ALPN (h2, http/1.1) then fails.
	r, err = Explain(res, Request{Port: 8443, Host: "mesh.example.com"})
	require.NoError(t, err)
	assert.Empty(t, r.FilterChain)
	assert.True(t, r.Action.Close)
	assert.Contains(t, r.Reason, "no filter chain matches application protocols [h2 http/1.1]")

	// A default filter chain catches what nothing else matches.
	l.DefaultFilterChain = httpChain(t, "default", "edge:HTTPS:8443:*")
	r, err = Explain(res, Request{Port: 8443, Host: "mesh.example.com"})
	require.NoError(t, err)
	assert.Equal(t, "default", r.FilterChain)

	// Destination port comes first.
	portChain := httpChain(t, "port", "edge:HTTPS:8443:*")
	portChain.FilterChainMatch = &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(8443)}
	l.FilterChains = append(l.FilterChains, portChain)
	r, err = Explain(res, Request{Port: 8443, Host: "api.example.com", TLS: true})
	require.NoError(t, err)
	assert.Equal(t, "port", r.FilterChain)
}

func TestTCPListener(t *testing.T) {
	r := explainOK(t, Request{Port: 9000})
	assert.Equal(t, "edge:TCP:9000", r.Listener)
	assert.Equal(t, "edge:TCP:9000:*", r.FilterChain)
	assert.Equal(t, []string{"envoy.filters.network.connection_limit", "envoy.filters.network.tcp_proxy"}, r.Filters)
	require.Len(t, r.Action.Forward, 2)
	db := r.Action.Forward[0]
	assert.Equal(t, "db", db.Cluster)
	assert.Equal(t, uint32(80), db.Weight)
	assert.Equal(t, map[string]string{"kuma.io/service": "db"}, db.Destination)
	assert.Equal(t, Backend{Cluster: "db-replica", Weight: 20, Missing: true}, r.Action.Forward[1])
	assert.Empty(t, r.RouteConfig)
	assert.Empty(t, r.Reason)
	assert.Equal(t, uint64(100), r.ConnectionLimit)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  Request
		err  string
	}{
		{"no listener", Request{Port: 9999, Host: "x"}, "no listener on port 9999 (listeners on ports: 8080, 8443, 9000)"},
		{"no port", Request{Host: "x"}, "explain: a port is required"},
		{"no host on HTTP", Request{Port: 8080}, "explain: an HTTP listener needs a Host"},
		{"relative path", Request{Port: 8080, Host: "x", Path: "api"}, `explain: path "api" must start with /`},
		{"TLS and plaintext", Request{Port: 8080, Host: "x", TLS: true, Plaintext: true}, "explain: a connection cannot be both TLS and plaintext"},
		{"pseudo-header", Request{Port: 8080, Host: "x", Headers: []Header{{":path", "/x"}}}, `explain: header ":path": set the method, path and host through their own fields`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Explain(gateway(t), tc.req)
			require.EqualError(t, err, tc.err)
		})
	}
	_, err := Explain(nil, Request{Port: 80})
	require.Error(t, err)

	// The Host can come from a header, as curl -H 'Host: ...' does.
	r := explainOK(t, Request{Port: 8080, Headers: []Header{{"Host", "www.example.com"}}})
	assert.Equal(t, "www.example.com", r.VirtualHost)
}

func TestMissingRouteConfiguration(t *testing.T) {
	res := gateway(t)
	res.Routes = res.Routes[1:]
	r, err := Explain(res, Request{Port: 8080, Host: "gw.local"})
	require.NoError(t, err)
	assert.Equal(t, "edge:HTTP:8080:*", r.RouteConfig)
	assert.Nil(t, r.Action)
	assert.Contains(t, r.Reason, `route configuration "edge:HTTP:8080:*" is not among the resources`)
}

func TestEndpointsAndAutoHostRewrite(t *testing.T) {
	res := gateway(t)
	// Drop the "web" assignment: Envoy never learns an endpoint for it.
	for i, cla := range res.Endpoints {
		if cla.GetClusterName() == "web" {
			res.Endpoints = append(res.Endpoints[:i], res.Endpoints[i+1:]...)
			break
		}
	}
	r, err := Explain(res, Request{Port: 8080, Host: "www.example.com"})
	require.NoError(t, err)
	require.NotNil(t, r.Action.Forward[0].Endpoints)
	assert.Equal(t, 0, *r.Action.Forward[0].Endpoints)
	assert.Contains(t, r.Notes, `cluster "web" has no ClusterLoadAssignment among the resources, so no endpoints: Envoy answers 503 (no healthy upstream)`)

	// auto_host_rewrite to a DNS cluster takes the name it resolves.
	for _, c := range res.Clusters {
		if c.GetName() == "static" {
			c.LoadAssignment = loadAssignment("static", 1, 0)
			c.LoadAssignment.Endpoints[0].LbEndpoints[0].GetEndpoint().GetAddress().GetSocketAddress().Address = "static.example.org"
		}
	}
	for _, rt := range res.Routes[0].VirtualHosts[5].Routes {
		if rt.GetName() == "static" {
			rt.GetRoute().HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}
		}
	}
	r, err = Explain(res, Request{Port: 8080, Host: "gw.local", Path: "/static/app.js"})
	require.NoError(t, err)
	assert.Equal(t, &Rewrite{AutoHost: true}, r.Action.Rewrite)
	assert.Equal(t, "static.example.org", r.Action.UpstreamHost)
}
