package explain

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/names"
)

// The fixture is a gateway shaped like the translator's output: an HTTP listener, an HTTPS
// listener with one chain per hostname, and a TCP listener, all on the dataplane address.
const dataplaneIP = "10.0.0.5"

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return a
}

func listener(t *testing.T, name string, port uint32, chains ...*listenerv3.FilterChain) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Protocol: corev3.SocketAddress_TCP, Address: dataplaneIP,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       "envoy.filters.listener.tls_inspector",
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(t, &tlsinspectorv3.TlsInspector{})},
		}},
		FilterChains: chains,
	}
}

func connLimit(t *testing.T) *listenerv3.Filter {
	return &listenerv3.Filter{
		Name: "envoy.filters.network.connection_limit",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &connlimitv3.ConnectionLimit{
			StatPrefix: "edge", MaxConnections: wrapperspb.UInt64(100),
		})},
	}
}

// hcmFilter is the translator's connection manager: RDS, path normalisation, router.
func hcmFilter(t *testing.T, rc string) *listenerv3.Filter {
	cfg := &hcmv3.HttpConnectionManager{
		StatPrefix: "edge",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}},
			RouteConfigName: rc,
		}},
		UseRemoteAddress:             wrapperspb.Bool(true),
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})},
		}},
	}
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, cfg)}}
}

func httpChain(t *testing.T, name, rc string) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{Name: name, Filters: []*listenerv3.Filter{connLimit(t), hcmFilter(t, rc)}}
}

// httpsChain serves serverNames (none: any) over TLS.
func httpsChain(t *testing.T, name, rc string, serverNames ...string) *listenerv3.FilterChain {
	fc := httpChain(t, name, rc)
	fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: serverNames, TransportProtocol: "tls"}
	fc.TransportSocket = &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, &tlsv3.DownstreamTlsContext{})},
	}
	return fc
}

func tcpChain(t *testing.T, name string, clusters map[string]uint32, order ...string) *listenerv3.FilterChain {
	wc := &tcpproxyv3.TcpProxy_WeightedCluster{}
	for _, c := range order {
		wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: c, Weight: clusters[c]})
	}
	tp := &tcpproxyv3.TcpProxy{StatPrefix: name, ClusterSpecifier: &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: wc}}
	return &listenerv3.FilterChain{Name: name, Filters: []*listenerv3.Filter{
		connLimit(t),
		{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, tp)}},
	}}
}

func routeConfig(name string, vhs ...*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: name, IgnorePortInHostMatching: true, ValidateClusters: wrapperspb.Bool(false), VirtualHosts: vhs}
}

func vhost(name string, domains []string, routes ...*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: domains, Routes: routes}
}

func prefix(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
}

func exactPath(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: p}}
}

func regexPath(re string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}}
}

func withHeaders(m *routev3.RouteMatch, hs ...*routev3.HeaderMatcher) *routev3.RouteMatch {
	m.Headers = append(m.Headers, hs...)
	return m
}

func withQuery(m *routev3.RouteMatch, qs ...*routev3.QueryParameterMatcher) *routev3.RouteMatch {
	m.QueryParameters = append(m.QueryParameters, qs...)
	return m
}

func exactString(v string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}}
}

func regexString(re string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}}
}

func headerString(name string, sm *matcherv3.StringMatcher) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm}}
}

func headerPresent(name string, present bool) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: present}}
}

func method(m string) *routev3.HeaderMatcher { return headerString(":method", exactString(m)) }

func queryString(name string, sm *matcherv3.StringMatcher) *routev3.QueryParameterMatcher {
	return &routev3.QueryParameterMatcher{Name: name, QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm}}
}

func queryPresent(name string) *routev3.QueryParameterMatcher {
	return &routev3.QueryParameterMatcher{Name: name, QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}}
}

// toCluster routes to one cluster, recording the MeshGatewayRoute it came from.
func toCluster(name string, m *routev3.RouteMatch, cluster string) *routev3.Route {
	return &routev3.Route{
		Name:  name,
		Match: m,
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier:            &routev3.RouteAction_Cluster{Cluster: cluster},
			ClusterNotFoundResponseCode: routev3.RouteAction_INTERNAL_SERVER_ERROR,
		}},
		Metadata: origin("default", name, 0, 0),
	}
}

func origin(mesh, route string, rule, match int) *corev3.Metadata {
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{names.MetadataNamespace: {
		Fields: names.EncodeRouteOrigin(names.RouteOrigin{Mesh: mesh, Route: route, Rule: rule, Match: match}),
	}}}
}

func action(rt *routev3.Route) *routev3.RouteAction { return rt.GetRoute() }

// cluster is an EDS cluster of a mesh service, labelled as the translator labels clusters.
func cluster(name string, destination map[string]string) *clusterv3.Cluster {
	dest := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for k, v := range destination {
		dest.Fields[k] = structpb.NewStringValue(v)
	}
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}},
		Metadata: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{names.MetadataNamespace: {Fields: map[string]*structpb.Value{
			"service":     structpb.NewStringValue(destination[api.ServiceTag]),
			"destination": structpb.NewStructValue(dest),
		}}}},
	}
}

func loadAssignment(cluster string, healthy int, unhealthy int) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	loc := &endpointv3.LocalityLbEndpoints{}
	add := func(n int, status corev3.HealthStatus) {
		for i := 0; i < n; i++ {
			loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{
				HealthStatus: status,
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{
					Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: "10.1.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(8000 + i)},
					}},
				}}},
			})
		}
	}
	add(healthy, corev3.HealthStatus_HEALTHY)
	add(unhealthy, corev3.HealthStatus_UNHEALTHY)
	cla.Endpoints = []*endpointv3.LocalityLbEndpoints{loc}
	return cla
}

// gateway builds the fixture every explain test runs against.
func gateway(t *testing.T) *envoyres.Resources {
	const httpRC = "edge:HTTP:8080:*"

	apiRoute := toCluster("api-route/rules[1]/matches[0]", prefix("/api/"), "api")
	apiRoute.Metadata = origin("default", "api-route", 1, 0)
	action(apiRoute).PrefixRewrite = "/"
	action(apiRoute).RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{
		Cluster:         "api-shadow",
		RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 10}},
	}}
	action(apiRoute).Timeout = durationpb.New(30e9)
	apiRoute.RequestHeadersToAdd = []*corev3.HeaderValueOption{
		{Header: &corev3.HeaderValue{Key: "x-gateway", Value: "route"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
		{Header: &corev3.HeaderValue{Key: "x-trace", Value: "1"}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
	}

	apiExact := toCluster("api-route/rules[1]/matches[0]/exact", exactPath("/api"), "api")
	apiExact.Metadata = origin("default", "api-route", 1, 0)
	action(apiExact).PrefixRewrite = "/"

	broken := toCluster("broken", prefix("/broken"), "")
	action(broken).ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
		{Name: "api", Weight: wrapperspb.UInt32(50)},
		{Name: "kuma.io/unresolved-backend", Weight: wrapperspb.UInt32(50)},
	}}}

	full := toCluster("full", prefix("/full"), "api")
	action(full).RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: ".*"}, Substitution: "/replaced"}
	action(full).HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "backend.internal"}

	groups := toCluster("groups", regexPath("/users/([0-9]+)/posts/([0-9]+)"), "api")
	action(groups).RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^/users/([0-9]+)/posts/([0-9]+)$"}, Substitution: `/posts/\2?user=\1`}

	redirect := &routev3.Route{Name: "old", Match: prefix("/old/"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
		SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
		HostRedirect:           "new.example.com",
		PathRewriteSpecifier:   &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/new/"},
		ResponseCode:           routev3.RedirectAction_FOUND,
		StripQuery:             true,
	}}}
	secure := &routev3.Route{Name: "secure", Match: prefix("/secure"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
		SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
	}}}
	health := &routev3.Route{Name: "health", Match: exactPath("/health"), Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
		Status: 200, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "ok"}},
	}}}

	beta := withHeaders(prefix("/h/"), &routev3.HeaderMatcher{Name: "x-beta", InvertMatch: true,
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactString("no")}})

	anyHost := vhost("any", []string{"*"},
		toCluster("exact", exactPath("/exact"), "exact"),
		toCluster("items", regexPath("/items/[0-9]+"), "items"),
		groups,
		toCluster("api-v2", prefix("/api/v2"), "api-v2"),
		toCluster("api-write", withHeaders(prefix("/api/"), method("POST")), "api-write"),
		apiExact,
		apiRoute,
		toCluster("canary", withHeaders(prefix("/h/"), headerPresent("x-canary", true)), "canary"),
		toCluster("env", withHeaders(prefix("/h/"), headerString("x-env", regexString("prod|staging"))), "env"),
		toCluster("beta", beta, "beta"),
		toCluster("no-legacy", withHeaders(prefix("/h/"), headerPresent("x-legacy", false)), "no-legacy"),
		toCluster("h-default", prefix("/h/"), "h-default"),
		toCluster("q-v2", withQuery(prefix("/q"), queryString("version", exactString("2"))), "q-v2"),
		toCluster("q-debug", withQuery(prefix("/q"), queryPresent("debug")), "q-debug"),
		toCluster("q-id", withQuery(prefix("/q"), queryString("id", regexString("[0-9]+"))), "q-id"),
		redirect, secure, health, broken, full,
		toCluster("empty", prefix("/empty"), "empty"),
		toCluster("static", prefix("/static"), "static"),
	)
	anyHost.RequestHeadersToRemove = []string{"x-internal"}
	anyHost.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{
		Header: &corev3.HeaderValue{Key: "strict-transport-security", Value: "max-age=31536000"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}
	httpConfig := routeConfig(httpRC,
		vhost("www.example.com", []string{"www.example.com"}, toCluster("www", prefix("/"), "web")),
		vhost("*.shop.example.com", []string{"*.shop.example.com"}, toCluster("shop", prefix("/"), "shop")),
		vhost("*-bar.example.com", []string{"*-bar.example.com"}, toCluster("bar", prefix("/"), "bar")),
		vhost("*.example.com", []string{"*.example.com"}, toCluster("example", prefix("/"), "example")),
		vhost("admin.*", []string{"admin.*"}, toCluster("admin", prefix("/"), "admin")),
		anyHost,
	)
	httpConfig.RequestHeadersToAdd = []*corev3.HeaderValueOption{{
		Header: &corev3.HeaderValue{Key: "x-gateway", Value: "edge"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}

	res := &envoyres.Resources{
		Listeners: []*listenerv3.Listener{
			listener(t, "edge:HTTP:8080", 8080, httpChain(t, "edge:HTTP:8080:*", httpRC)),
			listener(t, "edge:HTTPS:8443", 8443,
				httpsChain(t, "edge:HTTPS:8443:api.example.com", "edge:HTTPS:8443:api.example.com", "api.example.com"),
				httpsChain(t, "edge:HTTPS:8443:*.example.com", "edge:HTTPS:8443:*.example.com", "*.example.com"),
				httpsChain(t, "edge:HTTPS:8443:*", "edge:HTTPS:8443:*"),
			),
			listener(t, "edge:TCP:9000", 9000, tcpChain(t, "edge:TCP:9000:*", map[string]uint32{"db": 80, "db-replica": 20}, "db", "db-replica")),
		},
		Routes: []*routev3.RouteConfiguration{
			httpConfig,
			routeConfig("edge:HTTPS:8443:api.example.com", vhost("api.example.com", []string{"api.example.com"}, toCluster("tls-api", prefix("/"), "api"))),
			routeConfig("edge:HTTPS:8443:*.example.com", vhost("*.example.com", []string{"*.example.com"}, toCluster("tls-wild", prefix("/"), "example"))),
			routeConfig("edge:HTTPS:8443:*", vhost("*", []string{"*"}, toCluster("tls-any", prefix("/"), "web"))),
		},
	}
	for _, name := range []string{"web", "shop", "bar", "example", "admin", "exact", "items", "api-v2", "api-write",
		"canary", "env", "beta", "no-legacy", "h-default", "q-v2", "q-debug", "q-id", "api-shadow", "db", "empty"} {
		res.Clusters = append(res.Clusters, cluster(name, map[string]string{api.ServiceTag: name}))
		healthy := 2
		if name == "empty" {
			healthy = 0
		}
		res.Endpoints = append(res.Endpoints, loadAssignment(name, healthy, 1))
	}
	res.Clusters = append(res.Clusters, cluster("api", map[string]string{api.ServiceTag: "api", "version": "v1"}))
	res.Endpoints = append(res.Endpoints, loadAssignment("api", 3, 0))
	// A DNS cluster: explain cannot know how many addresses the name resolves to.
	res.Clusters = append(res.Clusters, &clusterv3.Cluster{Name: "static", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}})
	return res
}
