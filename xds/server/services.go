package server

import (
	"context"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretv3 "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Register serves ADS (state of the world and delta) and the listener, route, cluster,
// endpoint and secret discovery services on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	v := services{s}
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, v)
	listenerv3.RegisterListenerDiscoveryServiceServer(g, v)
	routev3.RegisterRouteDiscoveryServiceServer(g, v)
	clusterv3.RegisterClusterDiscoveryServiceServer(g, v)
	endpointv3.RegisterEndpointDiscoveryServiceServer(g, v)
	secretv3.RegisterSecretDiscoveryServiceServer(g, v)
}

type services struct{ s *Server }

var (
	_ discoveryv3.AggregatedDiscoveryServiceServer = services{}
	_ listenerv3.ListenerDiscoveryServiceServer    = services{}
	_ routev3.RouteDiscoveryServiceServer          = services{}
	_ clusterv3.ClusterDiscoveryServiceServer      = services{}
	_ endpointv3.EndpointDiscoveryServiceServer    = services{}
	_ secretv3.SecretDiscoveryServiceServer        = services{}
)

func (v services) StreamAggregatedResources(gs sotwStream) error {
	return v.s.serveSotw(gs, resource.AnyType)
}

func (v services) DeltaAggregatedResources(gs deltaStream) error {
	return v.s.serveDelta(gs, resource.AnyType)
}

func (v services) StreamListeners(gs sotwStream) error {
	return v.s.serveSotw(gs, resource.ListenerType)
}

func (v services) DeltaListeners(gs deltaStream) error {
	return v.s.serveDelta(gs, resource.ListenerType)
}

func (v services) StreamRoutes(gs sotwStream) error {
	return v.s.serveSotw(gs, resource.RouteType)
}

func (v services) DeltaRoutes(gs deltaStream) error {
	return v.s.serveDelta(gs, resource.RouteType)
}

func (v services) StreamClusters(gs sotwStream) error {
	return v.s.serveSotw(gs, resource.ClusterType)
}

func (v services) DeltaClusters(gs deltaStream) error {
	return v.s.serveDelta(gs, resource.ClusterType)
}

func (v services) StreamEndpoints(gs sotwStream) error {
	return v.s.serveSotw(gs, resource.EndpointType)
}

func (v services) DeltaEndpoints(gs deltaStream) error {
	return v.s.serveDelta(gs, resource.EndpointType)
}

func (v services) StreamSecrets(gs sotwStream) error {
	return v.s.serveSotw(gs, resource.SecretType)
}

func (v services) DeltaSecrets(gs deltaStream) error {
	return v.s.serveDelta(gs, resource.SecretType)
}

// The unary Fetch methods are REST-style polling that Envoy never does over gRPC; refusing them
// keeps a second path to configuration (and to authenticate) from existing.
func (v services) FetchListeners(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

func (v services) FetchRoutes(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

func (v services) FetchClusters(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

func (v services) FetchEndpoints(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

func (v services) FetchSecrets(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

var errNoFetch = status.Error(codes.Unimplemented, "meshgate serves xDS over streams only")
