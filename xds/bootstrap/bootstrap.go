// Package bootstrap produces the Envoy v3 bootstrap a dataplane starts with: its node identity
// and an ADS connection to the control plane, everything else arriving over xDS.
package bootstrap

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

// XDSCluster is the bootstrap's static cluster pointing at the control plane.
const XDSCluster = "meshgate-xds"

// Request describes the dataplane and where its control plane is.
type Request struct {
	// Exactly one of Dataplane and ZoneIngress is set.
	Dataplane   *api.Dataplane
	ZoneIngress *api.ZoneIngress
	// ControlPlane is `host:port` or `grpc://host:port`.
	ControlPlane string
	// Replicas are further control-plane addresses in the same form, for several replicas on
	// one store: the xDS cluster gets one endpoint per address, so Envoy moves to another
	// replica when its connection fails.
	Replicas []string
	// AdminAddress is Envoy's admin listener; it must stay on loopback.
	AdminAddress string
	AdminPort    uint32
	// Token is the dataplane token; Envoy sends it on every xDS stream as gRPC metadata
	// `authorization: Bearer <token>`, as kuma-dp does with --dataplane-token-file.
	Token string
	// ControlPlaneCA is the PEM Envoy trusts to verify the control plane's certificate
	// (`meshgate ca control-plane`); the certificate must also name the control plane's host.
	// Required unless Insecure.
	ControlPlaneCA []byte
	// Insecure connects in plain text, for a control plane run with --xds-insecure: the token
	// and the dataplane's private key then cross the network in clear.
	Insecure bool
}

// New builds and validates the bootstrap.
func New(req Request) (*bootstrapv3.Bootstrap, error) {
	cps, err := controlPlanes(append([]string{req.ControlPlane}, req.Replicas...))
	if err != nil {
		return nil, err
	}
	who, err := subjectOf(req)
	if err != nil {
		return nil, err
	}
	var transport *corev3.TransportSocket
	if !req.Insecure {
		if transport, err = controlPlaneTLS(cps, req.ControlPlaneCA); err != nil {
			return nil, fmt.Errorf("bootstrap for %s: %w", who.display, err)
		}
	}
	if req.AdminAddress == "" {
		req.AdminAddress = "127.0.0.1"
	}
	if req.AdminPort == 0 {
		req.AdminPort = 9901
		if who.adminPort != 0 {
			req.AdminPort = who.adminPort
		}
	}
	metadata, err := structpb.NewStruct(who.metadata)
	if err != nil {
		return nil, err
	}
	h2, err := anypb.New(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	xdsService := &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSCluster}},
	}
	if req.Token != "" {
		if strings.ContainsAny(req.Token, " \t\r\n") {
			return nil, fmt.Errorf("bootstrap for %s: the token contains whitespace", who.display)
		}
		xdsService.InitialMetadata = []*corev3.HeaderValue{{Key: "authorization", Value: "Bearer " + req.Token}}
	}
	ads := &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{
			Id:       who.node,
			Cluster:  who.cluster,
			Metadata: metadata,
		},
		Admin: &bootstrapv3.Admin{Address: socket(req.AdminAddress, req.AdminPort)},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				// The node is sent once per stream; meshgate keys everything on it.
				SetNodeOnFirstMessageOnly: true,
				GrpcServices:              []*corev3.GrpcService{xdsService},
			},
			LdsConfig: ads,
			CdsConfig: ads,
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Clusters: []*clusterv3.Cluster{{
				Name:                          XDSCluster,
				ConnectTimeout:                durationpb.New(time.Second),
				ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterType(cps)},
				TypedExtensionProtocolOptions: map[string]*anypb.Any{envoyres.HTTPProtocolOptionsType: h2},
				TransportSocket:               transport,
				LoadAssignment: &endpointv3.ClusterLoadAssignment{
					ClusterName: XDSCluster,
					Endpoints:   []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbEndpoints(cps)}},
				},
			}},
		},
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap for %s: %w", who.display, err)
	}
	return b, nil
}

func splitControlPlane(s string) (string, uint32, error) {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		if u.Scheme != "grpc" {
			return "", 0, fmt.Errorf("control plane address %q: scheme must be grpc", s)
		}
		s = u.Host
	}
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("control plane address %q: want host:port: %w", s, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("control plane address %q: bad port", s)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, uint32(port), nil
}

// controlPlane is one control-plane address the xDS cluster connects to.
type controlPlane struct {
	host string
	port uint32
}

func (c controlPlane) isIP() bool { return net.ParseIP(c.host) != nil }

// controlPlanes parses every address; one given twice is a mistake (a second endpoint to the
// same replica would only skew the balancing), so it is refused rather than dropped.
func controlPlanes(addrs []string) ([]controlPlane, error) {
	out := make([]controlPlane, 0, len(addrs))
	seen := make(map[controlPlane]bool, len(addrs))
	for _, a := range addrs {
		host, port, err := splitControlPlane(a)
		if err != nil {
			return nil, err
		}
		c := controlPlane{host: host, port: port}
		if seen[c] {
			return nil, fmt.Errorf("control plane address %q given twice", a)
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// clusterType uses IPs as they are and resolves hostnames with DNS. STRICT_DNS keeps every
// address a name resolves to as an endpoint (a name in front of several replicas fails over
// between them); it resolves an IP to itself, so a mix of names and IPs needs nothing else.
func clusterType(cps []controlPlane) clusterv3.Cluster_DiscoveryType {
	for _, c := range cps {
		if !c.isIP() {
			return clusterv3.Cluster_STRICT_DNS
		}
	}
	return clusterv3.Cluster_STATIC
}

func lbEndpoints(cps []controlPlane) []*endpointv3.LbEndpoint {
	out := make([]*endpointv3.LbEndpoint, 0, len(cps))
	for _, c := range cps {
		out = append(out, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socket(c.host, c.port)}},
		})
	}
	return out
}

func socket(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func serviceOf(dp *api.Dataplane) string {
	if g := dp.Spec.Networking.Gateway; g != nil {
		return g.Tags[api.ServiceTag]
	}
	for _, in := range dp.Spec.Networking.Inbound {
		if s := in.Tags[api.ServiceTag]; s != "" {
			return s
		}
	}
	return dp.Name
}
