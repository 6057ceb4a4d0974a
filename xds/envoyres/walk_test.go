package envoyres

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func filter(t *testing.T, name string, m proto.Message) *listenerv3.Filter {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return &listenerv3.Filter{Name: name, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}
}

// broken is a filter whose typed config claims type url but whose bytes do not decode.
func broken(url string) *listenerv3.Filter {
	a := &anypb.Any{TypeUrl: "type.googleapis.com/" + url, Value: []byte{0xff, 0xff, 0xff}}
	return &listenerv3.Filter{Name: "broken", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}
}

func rdsHCM(name string) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: name}}}
}

func TestTypeNames(t *testing.T) {
	// The names other packages compare typed configs with; spelled out here once, as a check
	// that they are what Envoy's type URLs carry.
	assert.Equal(t, "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", HTTPConnectionManagerType)
	assert.Equal(t, "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", TCPProxyType)
	assert.Equal(t, "envoy.extensions.filters.network.rbac.v3.RBAC", NetworkRBACType)
	assert.Equal(t, "envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit", ConnectionLimitType)
	assert.Equal(t, "envoy.extensions.filters.http.router.v3.Router", RouterType)
	assert.Equal(t, "envoy.extensions.filters.http.fault.v3.HTTPFault", HTTPFaultType)
	assert.Equal(t, "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", LocalRateLimitType)
	assert.Equal(t, "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", HTTPProtocolOptionsType)

	a, err := anypb.New(&tcpproxyv3.TcpProxy{})
	require.NoError(t, err)
	assert.Equal(t, TCPProxyType, TypeName(a))
	assert.Equal(t, "x.Y", TypeName(&anypb.Any{TypeUrl: "example.com/a/b/x.Y"}))
	assert.Equal(t, "", TypeName(nil))
}

func TestFilterChains(t *testing.T) {
	a, b, d := &listenerv3.FilterChain{Name: "a"}, &listenerv3.FilterChain{Name: "b"}, &listenerv3.FilterChain{Name: "default"}
	l := &listenerv3.Listener{FilterChains: make([]*listenerv3.FilterChain, 0, 8)}
	l.FilterChains = append(l.FilterChains, a, nil, b)
	l.DefaultFilterChain = d

	got := FilterChains(l)
	require.Equal(t, []*listenerv3.FilterChain{a, nil, b, d}, got, "the default chain comes last; a nil entry keeps its place")
	got[0] = nil
	assert.Len(t, l.FilterChains, 3, "the listener's own list is not changed")
	assert.Same(t, a, l.FilterChains[0], "the result does not share the listener's backing array")

	assert.Empty(t, FilterChains(&listenerv3.Listener{}))
	assert.Empty(t, FilterChains(nil))
}

func TestHTTPConnectionManager(t *testing.T) {
	h := HTTPConnectionManager(filter(t, "hcm", rdsHCM("routes")))
	require.NotNil(t, h)
	assert.Equal(t, "routes", h.GetRds().GetRouteConfigName())

	assert.Nil(t, HTTPConnectionManager(filter(t, "tcp", &tcpproxyv3.TcpProxy{StatPrefix: "x"})), "another filter type")
	assert.Nil(t, HTTPConnectionManager(broken(HTTPConnectionManagerType)), "bytes that do not decode")
	assert.Nil(t, HTTPConnectionManager(&listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager"}), "no typed config")
}

func TestChainTerminal(t *testing.T) {
	rbac := filter(t, "rbac", &rbacv3.RBAC{StatPrefix: "r"})
	tcp := filter(t, "tcp", &tcpproxyv3.TcpProxy{StatPrefix: "t"})
	hcm := filter(t, "hcm", rdsHCM("routes"))

	h, p, err := ChainTerminal(&listenerv3.FilterChain{Filters: []*listenerv3.Filter{rbac, hcm, tcp}})
	require.NoError(t, err)
	require.NotNil(t, h, "the first terminal filter wins")
	assert.Nil(t, p)
	assert.Equal(t, "routes", h.GetRds().GetRouteConfigName())

	h, p, err = ChainTerminal(&listenerv3.FilterChain{Filters: []*listenerv3.Filter{nil, rbac, tcp}})
	require.NoError(t, err)
	assert.Nil(t, h)
	require.NotNil(t, p)
	assert.Equal(t, "t", p.GetStatPrefix())

	h, p, err = ChainTerminal(&listenerv3.FilterChain{Filters: []*listenerv3.Filter{rbac, broken(TCPProxyType), hcm}})
	require.Error(t, err, "a terminal filter that does not decode stops the walk")
	assert.Nil(t, h)
	assert.Nil(t, p)

	h, p, err = ChainTerminal(&listenerv3.FilterChain{Filters: []*listenerv3.Filter{rbac}})
	assert.NoError(t, err)
	assert.Nil(t, h)
	assert.Nil(t, p)

	_, _, ok, err := Terminal(rbac)
	assert.False(t, ok)
	assert.NoError(t, err)
}

func TestRouteConfigNames(t *testing.T) {
	scoped := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
		ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRouteConfigurationsList{ScopedRouteConfigurationsList: &hcmv3.ScopedRouteConfigurationsList{
			ScopedRouteConfigurations: []*routev3.ScopedRouteConfiguration{{Name: "scope", RouteConfigurationName: "scoped-routes"}},
		}},
	}}}
	inline := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{Name: "inline"}}}
	l := &listenerv3.Listener{
		FilterChains: []*listenerv3.FilterChain{
			{Filters: []*listenerv3.Filter{filter(t, "hcm", rdsHCM("zeta"))}},
			{Filters: []*listenerv3.Filter{filter(t, "hcm", inline)}},
			{Filters: []*listenerv3.Filter{filter(t, "hcm", scoped)}},
			{Filters: []*listenerv3.Filter{filter(t, "hcm", rdsHCM("zeta"))}},
		},
		DefaultFilterChain: &listenerv3.FilterChain{Filters: []*listenerv3.Filter{filter(t, "hcm", rdsHCM("alpha"))}},
	}
	assert.Equal(t, []string{"alpha", "scoped-routes", "zeta"}, RouteConfigNames(l), "sorted, once each, inline route configurations left out")
	assert.Empty(t, RouteConfigNames(&listenerv3.Listener{Name: "tcp"}))
}

func TestEDSServiceName(t *testing.T) {
	eds := func(service string) *clusterv3.Cluster {
		c := &clusterv3.Cluster{Name: "c", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}}
		if service != "" {
			c.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{ServiceName: service}
		}
		return c
	}
	assert.Equal(t, "svc", EDSServiceName(eds("svc")))
	assert.Equal(t, "c", EDSServiceName(eds("")), "without a service name the cluster's name")
	static := &clusterv3.Cluster{Name: "s", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}}
	assert.Equal(t, "", EDSServiceName(static))
}

func TestTerminalFilters(t *testing.T) {
	assert.True(t, IsTerminalNetwork(filter(t, "anything", &tcpproxyv3.TcpProxy{})), "by type")
	assert.True(t, IsTerminalNetwork(filter(t, "x", rdsHCM("r"))))
	assert.True(t, IsTerminalNetwork(&listenerv3.Filter{Name: "envoy.filters.network.echo"}), "by name without a typed config")
	assert.False(t, IsTerminalNetwork(filter(t, "envoy.filters.network.tcp_proxy", &rbacv3.RBAC{})), "the typed config decides, not the name")
	assert.False(t, IsTerminalNetwork(&listenerv3.Filter{Name: "envoy.filters.network.rbac"}))

	router, err := anypb.New(&routerv3.Router{})
	require.NoError(t, err)
	assert.True(t, IsRouter(&hcmv3.HttpFilter{Name: "r", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}))
	assert.True(t, IsRouter(&hcmv3.HttpFilter{Name: "envoy.filters.http.router"}))
	assert.False(t, IsRouter(&hcmv3.HttpFilter{Name: "envoy.filters.http.fault"}))
}
