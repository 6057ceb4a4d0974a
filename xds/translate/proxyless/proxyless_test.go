package proxyless_test

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/snapshot"
	"github.com/meshgate/meshgate/xds/translate/proxyless"
)

func proxy() *ir.Proxy {
	prefix := ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}
	return &ir.Proxy{
		Node: "alpha.echo-1", Mesh: "alpha", Dataplane: "echo-1", Proxyless: true,
		Listeners: []ir.Listener{
			{
				Name: "inbound:127.0.0.1:9090", Address: "127.0.0.1", Port: 9090, Protocol: ir.HTTP, Direction: ir.DirectionInbound,
				FilterChains: []ir.FilterChain{{
					Name: "inbound:127.0.0.1:9090",
					TLS: &ir.DownstreamTLS{IdentityProvider: names.ProxylessIdentityProvider,
						ValidationProvider: names.ProxylessTrustProvider, RequireClientCert: true},
					RBAC: &ir.RBAC{StatPrefix: "inbound:127.0.0.1:9090.", Policies: []ir.RBACPolicy{{Name: "tp",
						Principals: []ir.Principal{{URIs: []ir.SANMatch{{Kind: ir.SANExact, Value: "spiffe://beta/shopper"}}}}}}},
					HTTP: &ir.HTTPConnectionManager{StatPrefix: "echo", RouteConfig: ir.RouteConfig{Name: "inbound:echo",
						VirtualHosts: []ir.VirtualHost{{Name: "echo", Domains: []string{"*"}, Routes: []ir.Route{{Name: "inbound", Match: prefix, NonForwarding: true}}}}}},
				}},
			},
			{
				Name: "api.mesh:8080", Protocol: ir.HTTP, Direction: ir.DirectionOutbound,
				FilterChains: []ir.FilterChain{{Name: "api.mesh:8080", HTTP: &ir.HTTPConnectionManager{StatPrefix: "api", RouteConfig: ir.RouteConfig{
					Name: "api.mesh:8080", VirtualHosts: []ir.VirtualHost{{Name: "api", Domains: []string{"*"}, Routes: []ir.Route{{
						Name: "outbound", Match: prefix, Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: "api", Weight: 1}}},
					}}}},
				}}}},
			},
		},
		Clusters: []ir.Cluster{{
			Name: "api", Service: "api", Protocol: ir.ClusterHTTP2,
			Endpoints: []ir.Endpoint{{Address: "127.0.0.3", Port: 8080, Weight: 2}, {Address: "127.0.0.2", Port: 8080, Weight: 1},
				{Address: "10.9.0.1", Port: 8080, Weight: 1, Zone: "zone-2", Priority: 1}},
			MTLS: &ir.UpstreamMTLS{IdentityProvider: names.ProxylessIdentityProvider,
				ValidationProvider: names.ProxylessTrustProvider, SAN: "spiffe://alpha/api"},
		}},
	}
}

func translated(t *testing.T) *envoyres.Resources {
	t.Helper()
	res, err := proxyless.Translate(proxy())
	require.NoError(t, err)
	// The same gate every published configuration passes: Envoy's field rules and consistency
	// (the server listener's RDS name has its route configuration; the API listener's routes
	// are inline, so no route configuration is left over).
	_, err = snapshot.New(res)
	require.NoError(t, err)
	return res
}

// TestTranslateNothingGRPCNACKs: no SDS anywhere, no listener filters, no original destination.
func TestTranslateNothingGRPCNACKs(t *testing.T) {
	res := translated(t)
	var all []proto.Message
	for _, l := range res.Listeners {
		assert.Empty(t, l.ListenerFilters, l.Name)
		assert.Nil(t, l.UseOriginalDst, l.Name)
		all = append(all, l)
	}
	for _, c := range res.Clusters {
		all = append(all, c)
	}
	for _, m := range all {
		raw, err := protojson.Marshal(m)
		require.NoError(t, err)
		for _, sds := range []string{"SdsSecretConfig", "sdsConfig", "tlsInspector", "tls_inspector"} {
			assert.NotContains(t, string(raw), sds)
		}
	}
	assert.Empty(t, res.Secrets)
}

func TestTranslateServerListener(t *testing.T) {
	res := translated(t)
	require.Len(t, res.Listeners, 2)
	l := res.Listeners[1] // sorted: "api.mesh:8080" < "inbound:..."
	require.Equal(t, "inbound:127.0.0.1:9090", l.Name)
	assert.Equal(t, "127.0.0.1", l.GetAddress().GetSocketAddress().GetAddress(), "the address gRPC listens on")
	assert.Equal(t, uint32(9090), l.GetAddress().GetSocketAddress().GetPortValue())
	require.Len(t, l.FilterChains, 1)
	fc := l.FilterChains[0]
	assert.Nil(t, fc.FilterChainMatch)
	var hcm hcmv3.HttpConnectionManager
	require.NoError(t, fc.Filters[0].GetTypedConfig().UnmarshalTo(&hcm))
	require.Len(t, hcm.HttpFilters, 2)
	assert.Equal(t, wellknown.HTTPRoleBasedAccessControl, hcm.HttpFilters[0].Name, "RBAC before the router")
	assert.Equal(t, wellknown.Router, hcm.HttpFilters[1].Name)
	assert.Equal(t, "inbound:echo", hcm.GetRds().GetRouteConfigName())

	var tls tlsv3.DownstreamTlsContext
	require.NoError(t, fc.TransportSocket.GetTypedConfig().UnmarshalTo(&tls))
	assert.True(t, tls.GetRequireClientCertificate().GetValue())
	assert.Equal(t, names.ProxylessIdentityProvider, tls.CommonTlsContext.GetTlsCertificateProviderInstance().GetInstanceName())
	vc := tls.CommonTlsContext.GetValidationContext()
	assert.Equal(t, names.ProxylessTrustProvider, vc.GetCaCertificateProviderInstance().GetInstanceName())
	assert.Empty(t, vc.GetMatchSubjectAltNames(), "gRPC NACKs SAN matchers on a server") //nolint:staticcheck

	require.Len(t, res.Routes, 1)
	r := res.Routes[0].VirtualHosts[0].Routes[0]
	_, ok := r.Action.(*routev3.Route_NonForwardingAction)
	assert.True(t, ok, "the server handles the RPC: %v", r.Action)
}

func TestTranslateAPIListenerAndCluster(t *testing.T) {
	res := translated(t)
	l := res.Listeners[0]
	require.Equal(t, "api.mesh:8080", l.Name)
	assert.Nil(t, l.Address)
	assert.Empty(t, l.FilterChains)
	var hcm hcmv3.HttpConnectionManager
	require.NoError(t, l.GetApiListener().GetApiListener().UnmarshalTo(&hcm))
	require.Len(t, hcm.HttpFilters, 1)
	assert.Equal(t, wellknown.Router, hcm.HttpFilters[0].Name)
	rc := hcm.GetRouteConfig()
	require.NotNil(t, rc, "routes inline")
	assert.Equal(t, "api", rc.VirtualHosts[0].Routes[0].GetRoute().GetCluster())

	require.Len(t, res.Clusters, 1)
	c := res.Clusters[0]
	assert.NotNil(t, c.GetEdsClusterConfig().GetEdsConfig().GetAds())
	var tls tlsv3.UpstreamTlsContext
	require.NoError(t, c.TransportSocket.GetTypedConfig().UnmarshalTo(&tls))
	assert.Equal(t, names.ProxylessIdentityProvider, tls.CommonTlsContext.GetTlsCertificateProviderInstance().GetInstanceName())
	vc := tls.CommonTlsContext.GetValidationContext()
	assert.Equal(t, names.ProxylessTrustProvider, vc.GetCaCertificateProviderInstance().GetInstanceName())
	require.Len(t, vc.GetMatchSubjectAltNames(), 1)                                   //nolint:staticcheck
	assert.Equal(t, "spiffe://alpha/api", vc.GetMatchSubjectAltNames()[0].GetExact()) //nolint:staticcheck

	require.Len(t, res.Endpoints, 1)
	groups := res.Endpoints[0].Endpoints
	require.Len(t, groups, 2, "local, then zone-2")
	for _, g := range groups {
		assert.NotNil(t, g.Locality, "gRPC NACKs a locality without one")
	}
	assert.Equal(t, uint32(3), groups[0].GetLoadBalancingWeight().GetValue(), "the local locality weighs its endpoints' weights")
	assert.Equal(t, "zone-2", groups[1].GetLocality().GetZone())
	assert.Equal(t, uint32(1), groups[1].GetPriority())
}

func TestTranslateRefuses(t *testing.T) {
	p := proxy()
	p.Proxyless = false
	_, err := proxyless.Translate(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not proxyless")

	p = proxy()
	p.Secrets = []ir.Secret{{Name: "x", TrustedCA: "y"}}
	_, err = proxyless.Translate(p)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "takes no secrets"), err.Error())
}
