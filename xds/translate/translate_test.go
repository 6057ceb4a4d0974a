package translate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/xds/ir"
)

// fixture is a small gateway: an HTTP listener with a connection limit, a TLS listener with a
// terminating and a passthrough chain, three clusters and one server certificate. Slices are
// deliberately not in name order so that sorting is observable.
func fixture() *ir.Proxy {
	return &ir.Proxy{
		Node: "default.gw", Mesh: "default", Dataplane: "gw",
		Listeners: []ir.Listener{
			{
				Name: "gw:TLS:8443", Address: "10.0.0.1", Port: 8443, Protocol: ir.TLS, StatPrefix: "gw",
				FilterChains: []ir.FilterChain{
					{
						Name: "gw:TLS:8443:a.example.com", ServerNames: []string{"a.example.com"}, TransportProtocolTLS: true,
						TLS: &ir.DownstreamTLS{CertificateSecrets: []string{"cert.rsa:secret:a"}},
						TCP: &ir.TCPProxy{StatPrefix: "gw", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}}},
					},
					{
						Name: "gw:TLS:8443:*", TransportProtocolTLS: true,
						TCP: &ir.TCPProxy{StatPrefix: "gw", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}, {Name: "api", Weight: 3}}},
					},
				},
			},
			{
				Name: "gw:HTTP:8080", Address: "10.0.0.1", Port: 8080, Protocol: ir.HTTP, StatPrefix: "gw", ConnectionLimit: 100,
				FilterChains: []ir.FilterChain{{
					Name: "gw:HTTP:8080:*",
					HTTP: &ir.HTTPConnectionManager{
						StatPrefix: "gw",
						Options: ir.HTTPOptions{
							ServerName: "Kuma Gateway", RequestHeadersTimeout: 500 * time.Millisecond,
							StreamIdleTimeout: 5 * time.Second, IdleTimeout: 300 * time.Second,
							MaxConcurrentStreams: 100, InitialStreamWindow: 65536, InitialConnWindow: 1048576,
							InternalAddresses: []string{"127.0.0.1/32", "::1/128"},
						},
						RouteConfig: ir.RouteConfig{
							Name:                   "gw:HTTP:8080:*",
							RequestHeadersToRemove: []string{"x-kuma-tags"},
							VirtualHosts: []ir.VirtualHost{{
								Name: "*", Domains: []string{"*"},
								Routes: []ir.Route{
									{
										Name:   "r/rules[0]/matches[0]",
										Origin: &ir.RouteOrigin{Mesh: "default", Route: "r", Rule: 0, Match: 0},
										Match:  ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/api/"}},
										Forward: &ir.Forward{
											Clusters: []ir.WeightedCluster{{Name: "api", Weight: 1, RequestHeadersToAdd: []ir.Header{{Name: "x-kuma-tags", Value: "&kuma.io/service=gw&"}}}},
											Mirrors:  []ir.Mirror{{Cluster: "mirror", Percent: 1}},
										},
									},
									{Name: "no-matching-route", Match: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}, DirectResponse: &ir.DirectResponse{Status: 404, Body: "nope\n"}},
								},
							}},
						},
					},
				}},
			},
		},
		Clusters: []ir.Cluster{
			{Name: "mirror", Service: "mirror", Destination: map[string]string{"kuma.io/service": "mirror"}, Protocol: ir.ClusterHTTP},
			{Name: "db", Service: "db", Destination: map[string]string{"kuma.io/service": "db"}, Protocol: ir.ClusterTCP,
				Endpoints: []ir.Endpoint{{Address: "10.1.0.2", Port: 5432, Tags: map[string]string{"kuma.io/service": "db"}}}},
			{Name: "api", Service: "api", Destination: map[string]string{"kuma.io/service": "api"}, Protocol: ir.ClusterHTTP2,
				Endpoints: []ir.Endpoint{{Address: "10.1.0.1", Port: 80, Weight: 1}},
				MTLS: &ir.UpstreamMTLS{
					IdentitySecret: "identity_cert:secret:default", ValidationSecret: "mesh_ca:secret:default",
					SNI: "api{mesh=default}", SAN: "spiffe://default/api", ALPN: []string{"kuma"},
				}},
		},
		Secrets: []ir.Secret{{Name: "cert.rsa:secret:a", CertificateChain: "-----BEGIN CERTIFICATE-----", PrivateKey: "-----BEGIN PRIVATE KEY-----"}},
	}
}

func unpack[T proto.Message](t *testing.T, a *anypb.Any, into T) T {
	t.Helper()
	require.NotNil(t, a)
	require.NoError(t, a.UnmarshalTo(into))
	return into
}

type validatable interface{ ValidateAll() error }

func requireValid(t *testing.T, ms ...validatable) {
	t.Helper()
	for _, m := range ms {
		require.NoError(t, m.ValidateAll())
	}
}

func TestTranslateSortsEachTypeByName(t *testing.T) {
	res, err := Translate(fixture())
	require.NoError(t, err)

	var got [5][]string
	for _, x := range res.Listeners {
		got[0] = append(got[0], x.GetName())
	}
	for _, x := range res.Routes {
		got[1] = append(got[1], x.GetName())
	}
	for _, x := range res.Clusters {
		got[2] = append(got[2], x.GetName())
	}
	for _, x := range res.Endpoints {
		got[3] = append(got[3], x.GetClusterName())
	}
	for _, x := range res.Secrets {
		got[4] = append(got[4], x.GetName())
	}
	assert.Equal(t, [5][]string{
		{"gw:HTTP:8080", "gw:TLS:8443"},
		{"gw:HTTP:8080:*"},
		{"api", "db", "mirror"},
		{"api", "db", "mirror"},
		{"cert.rsa:secret:a"},
	}, got)
	for _, x := range res.Listeners {
		requireValid(t, x)
	}
}

func TestTranslateIsPureAndDeterministic(t *testing.T) {
	p := fixture()
	first, err := Translate(p)
	require.NoError(t, err)
	assert.Equal(t, fixture(), p, "Translate must not modify its input")
	for range 10 {
		again, err := Translate(fixture())
		require.NoError(t, err)
		for i := range first.Clusters {
			assert.True(t, proto.Equal(first.Clusters[i], again.Clusters[i]))
		}
		for i := range first.Listeners {
			assert.True(t, proto.Equal(first.Listeners[i], again.Listeners[i]))
		}
	}
}

func TestTranslateRejectsInvalidIR(t *testing.T) {
	p := fixture()
	p.Listeners[1].FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[1].DirectResponse = nil
	_, err := Translate(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `proxy "default.gw"`)
	assert.Contains(t, err.Error(), "listeners[1].filterChains[0].http.routeConfig.virtualHosts[0].routes[1]: exactly one action must be set")

	_, err = Translate(nil)
	require.Error(t, err)
}
