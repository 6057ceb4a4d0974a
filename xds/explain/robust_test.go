package explain

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// inlineHTTP is a listener on :80 whose connection manager carries rc inline.
func inlineHTTP(t *testing.T, rc *routev3.RouteConfiguration) *envoyres.Resources {
	h := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: rc}}
	fc := &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, h)}}}}
	return &envoyres.Resources{Listeners: []*listenerv3.Listener{listener(t, "l", 80, fc)}}
}

// Nothing Explain is given may make it panic: every proto field may be nil or empty.
func TestNilAndEmptyConfiguration(t *testing.T) {
	nilRoutes := []*routev3.Route{
		nil,
		{},
		{Match: &routev3.RouteMatch{}},
		{Match: prefix("/"), Action: &routev3.Route_Route{}},
		{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}},
		{Match: prefix("/"), Action: &routev3.Route_Redirect{}},
		{Match: prefix("/"), Action: &routev3.Route_DirectResponse{}},
		{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{}}}},
		{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier:      &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{nil, {}}}},
			RegexRewrite:          &matcherv3.RegexMatchAndSubstitute{},
			HostRewriteSpecifier:  &routev3.RouteAction_HostRewritePathRegex{},
			RequestMirrorPolicies: []*routev3.RouteAction_RequestMirrorPolicy{nil, {}},
			RetryPolicy:           &routev3.RetryPolicy{},
		}}},
		{Match: prefix("/"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_RegexRewrite{}}}},
		{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{}}},
		{Match: &routev3.RouteMatch{
			PathSpecifier:   &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers:         []*routev3.HeaderMatcher{nil, {HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{}}, {HeaderMatchSpecifier: &routev3.HeaderMatcher_RangeMatch{}}, {HeaderMatchSpecifier: &routev3.HeaderMatcher_SafeRegexMatch{}}},
			QueryParameters: []*routev3.QueryParameterMatcher{nil, {QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{}}},
			Cookies:         []*routev3.CookieMatcher{nil, {}},
			RuntimeFraction: &corev3.RuntimeFractionalPercent{},
			TlsContext:      &routev3.RouteMatch_TlsContextMatchOptions{},
		}},
	}
	cases := map[string]*envoyres.Resources{
		"empty":                    {},
		"nil listeners":            {Listeners: []*listenerv3.Listener{nil, {}, {Address: &corev3.Address{}}}},
		"listener without chains":  {Listeners: []*listenerv3.Listener{listener(t, "l", 80)}},
		"nil chains and filters":   {Listeners: []*listenerv3.Listener{listener(t, "l", 80, nil, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{nil, {}, {ConfigType: &listenerv3.Filter_TypedConfig{}}}})}},
		"connection manager empty": {Listeners: []*listenerv3.Listener{listener(t, "l", 80, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &hcmv3.HttpConnectionManager{})}}}})}},
		"empty RDS":                {Listeners: []*listenerv3.Listener{listener(t, "l", 80, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{}})}}}})}, Routes: []*routev3.RouteConfiguration{nil, {}}},
		"inline nil route config":  inlineHTTP(t, nil),
		"nil virtual hosts":        inlineHTTP(t, &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{nil, {}, {Domains: []string{""}}}}),
		"odd routes":               inlineHTTP(t, routeConfig("rc", &routev3.VirtualHost{Name: "v", Domains: []string{"*"}, Routes: nilRoutes})),
		"empty tcp proxy":          {Listeners: []*listenerv3.Listener{listener(t, "l", 80, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{})}}}})}},
		"nil tcp weighted":         {Listeners: []*listenerv3.Listener{listener(t, "l", 80, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{ClusterSpecifier: &tcpproxyv3.TcpProxy_WeightedClusters{}})}}}})}},
		"garbage typed config":     {Listeners: []*listenerv3.Listener{listener(t, "l", 80, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", Value: []byte{0xff, 0xff}}}}}})}},
		"nil clusters and endpoints": func() *envoyres.Resources {
			r := gateway(t)
			r.Clusters = append([]*clusterv3.Cluster{nil, {}, {Name: "api"}}, r.Clusters...)
			r.Endpoints = append([]*endpointv3.ClusterLoadAssignment{nil, {}, {ClusterName: "api", Endpoints: []*endpointv3.LocalityLbEndpoints{nil, {LbEndpoints: []*endpointv3.LbEndpoint{nil, {}}}}}}, r.Endpoints...)
			return r
		}(),
		"default chain only": {Listeners: []*listenerv3.Listener{{
			Address:            listener(t, "l", 80).Address,
			DefaultFilterChain: &listenerv3.FilterChain{},
		}}},
	}
	requests := []Request{
		{Port: 80, Host: "a", Path: "/"},
		{Port: 80, Host: "a:80", Path: "/x?y=1", Method: "POST", Headers: []Header{{"cookie", "a"}, {"x", ""}}},
		{Port: 80, Host: "a", TLS: true},
		{Port: 8080, Host: "a", Path: "/api/x"},
		{Port: 9000},
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			for _, req := range requests {
				assert.NotPanics(t, func() {
					r, err := Explain(res, req)
					if err == nil {
						require.NotNil(t, r)
						_ = r.Text()
					}
				})
			}
		})
	}
	var nilResult *Result
	assert.Empty(t, nilResult.Text())
}

func TestBrokenConfigurationIsAnError(t *testing.T) {
	res := inlineHTTP(t, routeConfig("rc", vhost("v", []string{"*"}, toCluster("bad", regexPath("(unclosed"), "c"))))
	_, err := Explain(res, Request{Port: 80, Host: "a", Path: "/"})
	require.ErrorContains(t, err, `virtual host "v", route "bad": regex "(unclosed"`)

	// Configuration explain cannot interpret on one route does not hide the routes after it.
	odd := &routev3.Route{Name: "uri-template", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathMatchPolicy{PathMatchPolicy: &corev3.TypedExtensionConfig{}}}}
	res = inlineHTTP(t, routeConfig("rc", vhost("v", []string{"*"}, odd, toCluster("next", prefix("/"), "c"))))
	r, err := Explain(res, Request{Port: 80, Host: "a", Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "next", r.EnvoyRoute)
	assert.Contains(t, r.Notes, `route "uri-template" skipped: it matches the path with a path_match_policy extension: not interpreted by explain`)
}

func FuzzExplain(f *testing.F) {
	f.Add(uint32(8080), "gw.local", "/api/x?y=1", "GET", "x-env", "prod", "", false)
	f.Add(uint32(8443), "api.example.com:8443", "/", "POST", "cookie", "a=b", "api.example.com", true)
	f.Add(uint32(8080), "[::1]:8080", "/a%2F/../b//c#f", "", "", "", "", false)
	f.Add(uint32(9000), "", "", "", "", "", "", false)
	f.Fuzz(func(t *testing.T, port uint32, host, path, method, hname, hvalue, sni string, tls bool) {
		req := Request{Port: port, Host: host, Path: path, Method: method, SNI: sni, TLS: tls}
		if hname != "" {
			req.Headers = []Header{{hname, hvalue}}
		}
		r, err := Explain(gateway(t), req)
		if err == nil {
			_ = r.Text()
		}
	})
}
