package modify_test

import (
	"testing"

	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

func networkMod(op api.ModificationOperation, value string, match *api.ProxyTemplateNetworkFilterMatch) api.ProxyTemplateModification {
	return api.ProxyTemplateModification{NetworkFilter: &api.ProxyTemplateNetworkFilter{Operation: op, Value: value, Match: match}}
}

func httpMod(op api.ModificationOperation, value string, match *api.ProxyTemplateHTTPFilterMatch) api.ProxyTemplateModification {
	return api.ProxyTemplateModification{HTTPFilter: &api.ProxyTemplateHTTPFilter{Operation: op, Value: value, Match: match}}
}

const (
	tcpProxyName = "envoy.filters.network.tcp_proxy"
	routerName   = "envoy.filters.http.router"

	netRateLimit = `
name: envoy.filters.network.local_ratelimit
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit
  stat_prefix: rl
  token_bucket: {max_tokens: 10, fill_interval: 1s}
`
	netRBAC = `
name: envoy.filters.network.rbac
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
  stat_prefix: rbac
`
	luaFilter = `
name: envoy.filters.http.lua
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
  default_source_code: {inline_string: "function envoy_on_request(h) end"}
`
	corsFilter = `
name: envoy.filters.http.cors
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors
`
	faultFilter = `
name: envoy.filters.http.fault
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
`
)

func TestNetworkFilterModifications(t *testing.T) {
	onTCP := func(name string) *api.ProxyTemplateNetworkFilterMatch {
		return &api.ProxyTemplateNetworkFilterMatch{ListenerName: tcpListener, Name: name}
	}
	filters := func(want ...string) func(t *testing.T, out *envoyres.Resources) {
		return func(t *testing.T, out *envoyres.Resources) {
			assert.Equal(t, want, networkFilters(t, listener(out, tcpListener)))
		}
	}
	runCases(t, []resourceCase{
		{name: "addFirst", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, netRateLimit, onTCP(""))},
			check: filters("envoy.filters.network.local_ratelimit", tcpProxyName)},
		{name: "addLast goes before the terminal filter", mods: []api.ProxyTemplateModification{networkMod(api.OpAddLast, netRBAC, onTCP(""))},
			check: filters("envoy.filters.network.rbac", tcpProxyName)},
		{name: "addBefore and addAfter", mods: []api.ProxyTemplateModification{
			networkMod(api.OpAddBefore, netRBAC, onTCP(tcpProxyName)),
			networkMod(api.OpAddAfter, netRateLimit, onTCP("envoy.filters.network.rbac")),
		}, check: filters("envoy.filters.network.rbac", "envoy.filters.network.local_ratelimit", tcpProxyName)},
		{name: "every listener without listenerName", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, netRBAC, nil)},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, "envoy.filters.network.rbac", networkFilters(t, listener(out, httpListener))[0])
				assert.Equal(t, "envoy.filters.network.rbac", networkFilters(t, listener(out, tcpListener))[0])
			}},
		{name: "addAfter the terminal filter", mods: []api.ProxyTemplateModification{networkMod(api.OpAddAfter, netRBAC, onTCP(tcpProxyName))},
			problems: []want{{"conf.modifications[0].networkFilter",
				`filter chain "edge:TCP:9090:*" of listener "edge:TCP:9090": terminal filter "envoy.filters.network.tcp_proxy" must be the last; ` +
					`filter chain "edge:TCP:9090:*" of listener "edge:TCP:9090": ends with "envoy.filters.network.rbac", which is not a terminal filter; not applied`}},
			unchanged: true},
		{name: "addBefore a missing anchor", mods: []api.ProxyTemplateModification{networkMod(api.OpAddBefore, netRBAC, onTCP("nope"))},
			problems: []want{{"conf.modifications[0].networkFilter.match.name", `no network filter named "nope" in the matched listeners; nothing changed`}}, unchanged: true},
		{name: "patch typed_config", mods: []api.ProxyTemplateModification{networkMod(api.OpPatch, `
name: envoy.filters.network.tcp_proxy
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
  stat_prefix: patched
  max_connect_attempts: 3
`, onTCP(tcpProxyName))},
			check: func(t *testing.T, out *envoyres.Resources) {
				tp := &tcpproxyv3.TcpProxy{}
				require.NoError(t, listener(out, tcpListener).GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(tp))
				assert.Equal(t, "patched", tp.GetStatPrefix())
				assert.EqualValues(t, 3, tp.GetMaxConnectAttempts().GetValue())
				assert.Equal(t, "db", tp.GetCluster(), "the rest is kept")
			}},
		{name: "patch to a missing cluster", mods: []api.ProxyTemplateModification{networkMod(api.OpPatch, `
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
  cluster: nope
`, onTCP(tcpProxyName))},
			problems:  []want{{"conf.modifications[0].networkFilter", `listener "edge:TCP:9090" references cluster "nope", which does not exist; not applied`}},
			unchanged: true},
		{name: "patch with another type", mods: []api.ProxyTemplateModification{networkMod(api.OpPatch, netRBAC, onTCP(tcpProxyName))},
			problems: []want{{"conf.modifications[0].networkFilter.value",
				`typed_config "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC" does not match the filter's "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"; not applied`}},
			unchanged: true},
		{name: "patch into an invalid config", mods: []api.ProxyTemplateModification{networkMod(api.OpPatch, `
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
  max_connect_attempts: 0
`, onTCP(tcpProxyName))},
			problems: []want{{"conf.modifications[0].networkFilter",
				`listener "edge:TCP:9090" would be invalid: envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy: invalid TcpProxy.MaxConnectAttempts: value must be greater than or equal to 1; not applied`}},
			unchanged: true},
		{name: "add an invalid config", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, `
name: envoy.filters.network.local_ratelimit
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit
`, onTCP(""))},
			problems:  []want{{"conf.modifications[0].networkFilter", `LocalRateLimit.StatPrefix: value length must be at least 1 runes`}},
			unchanged: true},
		{name: "remove", mods: []api.ProxyTemplateModification{
			networkMod(api.OpAddFirst, netRBAC, onTCP("")),
			networkMod(api.OpRemove, "", onTCP("envoy.filters.network.rbac")),
		}, unchanged: true},
		{name: "remove the HTTP connection manager", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, netRBAC,
			&api.ProxyTemplateNetworkFilterMatch{ListenerName: httpListener}),
			networkMod(api.OpRemove, "", &api.ProxyTemplateNetworkFilterMatch{ListenerName: httpListener, Name: "envoy.filters.network.http_connection_manager"})},
			problems: []want{{"conf.modifications[1].networkFilter", `ends with "envoy.filters.network.rbac", which is not a terminal filter; ` +
				`route configuration "edge:HTTP:8080:*" is loaded by no listener; not applied`}}},
		{name: "unknown type", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst,
			"name: x\ntyped_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope}", onTCP(""))},
			problems: []want{{"conf.modifications[0].networkFilter.value",
				`unknown @type "type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope": meshgate does not include this Envoy extension; not applied`}},
			unchanged: true},
		{name: "an HTTP filter type", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, luaFilter, onTCP(""))},
			problems: []want{{"conf.modifications[0].networkFilter.value",
				`typed_config "envoy.extensions.filters.http.lua.v3.Lua" is not an Envoy network filter (envoy.extensions.filters.network.*); not applied`}},
			unchanged: true},
		{name: "listener tags", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, netRBAC,
			&api.ProxyTemplateNetworkFilterMatch{ListenerTags: map[string]string{"port": "tcp/9090"}})},
			problems: []want{{"conf.modifications[0].networkFilter.match.listenerTags", "listener tags are not supported"}}, unchanged: true},
		{name: "no listener", mods: []api.ProxyTemplateModification{networkMod(api.OpAddFirst, netRBAC, &api.ProxyTemplateNetworkFilterMatch{ListenerName: "nope"})},
			problems: []want{{"conf.modifications[0].networkFilter.match", `matches no listener (listenerName "nope"); nothing changed`}}, unchanged: true},
		{name: "invalid operation", mods: []api.ProxyTemplateModification{networkMod(api.OpAdd, netRBAC, nil)},
			problems: []want{{"conf.modifications[0].networkFilter.operation", `operation "add" is not one of`}}, unchanged: true},
	})
}

// gzipName is the compressor filter every gateway HTTP connection manager has before the router.
const gzipName = "gzip-compress"

func TestHTTPFilterModifications(t *testing.T) {
	onHTTP := func(name string) *api.ProxyTemplateHTTPFilterMatch {
		return &api.ProxyTemplateHTTPFilterMatch{ListenerName: httpListener, Name: name}
	}
	filters := func(want ...string) func(t *testing.T, out *envoyres.Resources) {
		return func(t *testing.T, out *envoyres.Resources) {
			assert.Equal(t, want, httpFilters(t, listener(out, httpListener)))
		}
	}
	runCases(t, []resourceCase{
		{name: "addBefore the router", mods: []api.ProxyTemplateModification{httpMod(api.OpAddBefore, luaFilter, onHTTP(routerName))},
			check: filters(gzipName, "envoy.filters.http.lua", routerName)},
		{name: "addLast goes before the router", mods: []api.ProxyTemplateModification{
			httpMod(api.OpAddLast, luaFilter, onHTTP("")),
			httpMod(api.OpAddLast, corsFilter, onHTTP("")),
		}, check: filters(gzipName, "envoy.filters.http.lua", "envoy.filters.http.cors", routerName)},
		{name: "addFirst and addAfter", mods: []api.ProxyTemplateModification{
			httpMod(api.OpAddFirst, faultFilter, nil),
			httpMod(api.OpAddAfter, corsFilter, onHTTP("envoy.filters.http.fault")),
		}, check: filters("envoy.filters.http.fault", "envoy.filters.http.cors", gzipName, routerName)},
		{name: "addAfter the router", mods: []api.ProxyTemplateModification{httpMod(api.OpAddAfter, luaFilter, onHTTP(routerName))},
			problems: []want{{"conf.modifications[0].httpFilter",
				`filter chain "edge:HTTP:8080:*" of listener "edge:HTTP:8080": the router "envoy.filters.http.router" must be the last HTTP filter; ` +
					`filter chain "edge:HTTP:8080:*" of listener "edge:HTTP:8080": HTTP filters end with "envoy.filters.http.lua", not with the router; not applied`}},
			unchanged: true},
		{name: "addBefore a missing anchor", mods: []api.ProxyTemplateModification{httpMod(api.OpAddBefore, luaFilter, onHTTP("envoy.filters.http.nope"))},
			problems:  []want{{"conf.modifications[0].httpFilter.match.name", `no HTTP filter named "envoy.filters.http.nope" in the matched listeners; nothing changed`}},
			unchanged: true},
		{name: "remove the router", mods: []api.ProxyTemplateModification{httpMod(api.OpRemove, "", onHTTP(routerName))},
			problems: []want{{"conf.modifications[0].httpFilter",
				`filter chain "edge:HTTP:8080:*" of listener "edge:HTTP:8080": HTTP filters end with "gzip-compress", not with the router; not applied`}},
			unchanged: true},
		{name: "remove", mods: []api.ProxyTemplateModification{
			httpMod(api.OpAddFirst, luaFilter, nil),
			httpMod(api.OpRemove, "", onHTTP("envoy.filters.http.lua")),
		}, unchanged: true},
		{name: "patch the router", mods: []api.ProxyTemplateModification{httpMod(api.OpPatch, `
name: envoy.filters.http.router
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  suppress_envoy_headers: true
`, onHTTP(routerName))},
			check: func(t *testing.T, out *envoyres.Resources) {
				r := &routerv3.Router{}
				fs := httpManager(t, listener(out, httpListener)).GetHttpFilters()
				require.NoError(t, fs[len(fs)-1].GetTypedConfig().UnmarshalTo(r))
				assert.True(t, r.GetSuppressEnvoyHeaders())
			}},
		{name: "patch without typed_config", mods: []api.ProxyTemplateModification{httpMod(api.OpPatch, "name: x", onHTTP(routerName))},
			problems: []want{{"conf.modifications[0].httpFilter.value", "the value has no typed_config to merge; not applied"}}, unchanged: true},
		{name: "an invalid filter config", mods: []api.ProxyTemplateModification{httpMod(api.OpAddFirst, `
name: envoy.filters.http.local_ratelimit
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
`, nil)},
			problems: []want{{"conf.modifications[0].httpFilter",
				`listener "edge:HTTP:8080" would be invalid: envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit: invalid LocalRateLimit.StatPrefix: value length must be at least 1 runes; not applied`}},
			unchanged: true},
		{name: "unknown field in typed_config", mods: []api.ProxyTemplateModification{httpMod(api.OpAddFirst, `
name: envoy.filters.http.cors
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors
  allow_origin: ["*"]
`, nil)},
			problems:  []want{{"conf.modifications[0].httpFilter.value", `unknown field "allow_origin" in envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter; not applied`}},
			unchanged: true},
		{name: "a network filter type", mods: []api.ProxyTemplateModification{httpMod(api.OpAddFirst, netRBAC, nil)},
			problems:  []want{{"conf.modifications[0].httpFilter.value", "is not an Envoy http filter"}},
			unchanged: true},
		{name: "a listener without HTTP", mods: []api.ProxyTemplateModification{httpMod(api.OpAddFirst, luaFilter, &api.ProxyTemplateHTTPFilterMatch{ListenerName: tcpListener})},
			problems: []want{{"conf.modifications[0].httpFilter.match", "the matched listeners have no HTTP connection manager; nothing changed"}}, unchanged: true},
		{name: "listener tags", mods: []api.ProxyTemplateModification{httpMod(api.OpAddFirst, luaFilter,
			&api.ProxyTemplateHTTPFilterMatch{ListenerTags: map[string]string{"port": "http/8080"}})},
			problems: []want{{"conf.modifications[0].httpFilter.match.listenerTags", "listener tags are not supported"}}, unchanged: true},
		{name: "sidecar inbound", res: sidecar, mods: []api.ProxyTemplateModification{httpMod(api.OpAddBefore, luaFilter,
			&api.ProxyTemplateHTTPFilterMatch{Origin: "inbound", Name: routerName})},
			check: func(t *testing.T, out *envoyres.Resources) {
				got := httpFilters(t, listener(out, "inbound:10.0.0.1:8080"))
				require.GreaterOrEqual(t, len(got), 2)
				assert.Equal(t, []string{"envoy.filters.http.lua", routerName}, got[len(got)-2:])
			}},
	})
}
