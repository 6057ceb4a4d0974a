package server

import (
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// gen picks the content of each type of a fixture snapshot; a type's version is derived from
// its generation, so equal generations mean equal versions and equal content.
type gen struct{ cds, eds, lds, rds int }

func (g gen) versions() map[string]string {
	return map[string]string{
		resource.ClusterType:  fmt.Sprintf("cds-%d", g.cds),
		resource.EndpointType: fmt.Sprintf("eds-%d", g.eds),
		resource.ListenerType: fmt.Sprintf("lds-%d", g.lds),
		resource.RouteType:    fmt.Sprintf("rds-%d", g.rds),
	}
}

// The fixture gateway: two HTTP listeners, each with its RDS route configuration, routing to
// two EDS clusters.
var (
	fixtureListeners = map[string]string{"http-8080": "route-8080", "http-9090": "route-9090"}
	fixtureClusters  = []string{"api", "backend"}
)

// fixture builds a consistent snapshot for g, as snapshot.New would (every type set).
func fixture(t testing.TB, g gen) *cache.Snapshot {
	t.Helper()
	var lds, rds, cds, eds []types.Resource
	port := uint32(8080)
	for _, name := range []string{"http-8080", "http-9090"} {
		route := fixtureListeners[name]
		lds = append(lds, listener(t, name, route, port, g.lds))
		rds = append(rds, routeConfig(route, g.rds))
		port += 1010
	}
	for _, c := range fixtureClusters {
		cds = append(cds, edsCluster(c, g.cds))
		eds = append(eds, assignment(c, g.eds))
	}
	v := g.versions()
	snap := &cache.Snapshot{}
	snap.Resources[types.Listener] = cache.NewResources(v[resource.ListenerType], lds)
	snap.Resources[types.Route] = cache.NewResources(v[resource.RouteType], rds)
	snap.Resources[types.Cluster] = cache.NewResources(v[resource.ClusterType], cds)
	snap.Resources[types.Endpoint] = cache.NewResources(v[resource.EndpointType], eds)
	snap.Resources[types.Secret] = cache.NewResources("sds-0", nil)
	if err := snap.Consistent(); err != nil {
		t.Fatalf("fixture %+v is inconsistent: %v", g, err)
	}
	return snap
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatalf("packing %T: %v", m, err)
	}
	return a
}

func listener(t testing.TB, name, route string, port uint32, g int) *listenerv3.Listener {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: fmt.Sprintf("%s-gen%d", name, g),
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: route, ConfigSource: adsSource(),
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})},
		}},
	}
	return &listenerv3.Listener{
		Name:    name,
		Address: socket("0.0.0.0", port),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)},
		}}}},
	}
}

func routeConfig(name string, g int) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name: name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    "edge",
			Domains: []string{fmt.Sprintf("gen-%d.example.com", g)},
			Routes: []*routev3.Route{{
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "backend"}}},
			}},
		}},
	}
}

func edsCluster(name string, g int) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(time.Duration(g+1) * time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource()},
	}
}

func assignment(cluster string, g int) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: cluster,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: socket("127.0.0.1", uint32(20000+g)),
			}},
		}}}},
	}
}

func socket(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
