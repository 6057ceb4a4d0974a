package ir_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// proxylessProxy is a valid proxyless dataplane: an mTLS server listener with RBAC and an API
// listener to an mTLS EDS cluster.
func proxylessProxy() *ir.Proxy {
	route := func(r ir.Route) ir.RouteConfig {
		return ir.RouteConfig{VirtualHosts: []ir.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []ir.Route{r}}}}
	}
	prefix := ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}
	server := route(ir.Route{Name: "inbound", Match: prefix, NonForwarding: true})
	server.Name = "inbound:echo"
	client := route(ir.Route{Name: "outbound", Match: prefix, Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: "api", Weight: 1}}}})
	client.Name = "api.mesh:8080"
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
					HTTP: &ir.HTTPConnectionManager{StatPrefix: "echo", RouteConfig: server},
				}},
			},
			{
				Name: "api.mesh:8080", Protocol: ir.HTTP, Direction: ir.DirectionOutbound,
				FilterChains: []ir.FilterChain{{Name: "api.mesh:8080", HTTP: &ir.HTTPConnectionManager{StatPrefix: "api", RouteConfig: client}}},
			},
		},
		Clusters: []ir.Cluster{{
			Name: "api", Service: "api", Protocol: ir.ClusterHTTP2,
			Endpoints: []ir.Endpoint{{Address: "127.0.0.2", Port: 8080, Weight: 1}},
			MTLS: &ir.UpstreamMTLS{IdentityProvider: names.ProxylessIdentityProvider,
				ValidationProvider: names.ProxylessTrustProvider, SAN: "spiffe://alpha/api"},
		}},
	}
}

func TestValidateAcceptsProxyless(t *testing.T) {
	require.NoError(t, proxylessProxy().Validate())
}

func TestValidateRejectsProxyless(t *testing.T) {
	const (
		srv = "listeners[0].filterChains[0]"
		api = "listeners[1]"
	)
	serverChain := func(p *ir.Proxy) *ir.FilterChain { return &p.Listeners[0].FilterChains[0] }
	apiRoute := func(p *ir.Proxy) *ir.Route {
		return &p.Listeners[1].FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[0]
	}
	cases := []struct {
		name   string
		mutate func(p *ir.Proxy)
		want   string
	}{
		{"a secret (SDS)", func(p *ir.Proxy) { p.Secrets = []ir.Secret{{Name: "s", TrustedCA: "x"}} }, "secrets: a proxyless dataplane takes no secrets"},
		{"use_original_dst", func(p *ir.Proxy) { p.Listeners[0].UseOriginalDst = true }, "listeners[0]: a proxyless listener is never virtual"},
		{"TCP", func(p *ir.Proxy) { serverChain(p).HTTP, serverChain(p).TCP = nil, &ir.TCPProxy{} }, srv + ".http: must be set"},
		{"chain match", func(p *ir.Proxy) { serverChain(p).ServerNames = []string{"x"} }, srv + ": gRPC cannot match filter chains"},
		{"two chains", func(p *ir.Proxy) {
			p.Listeners[0].FilterChains = append(p.Listeners[0].FilterChains, p.Listeners[0].FilterChains[0])
		}, "listeners[0].filterChains: a proxyless listener has exactly one filter chain, got 2"},
		{"server name not gRPC's", func(p *ir.Proxy) { p.Listeners[0].Name = "inbound:echo" }, `listeners[0].name: must be "inbound:127.0.0.1:9090"`},
		{"server route forwards", func(p *ir.Proxy) {
			r := &serverChain(p).HTTP.RouteConfig.VirtualHosts[0].Routes[0]
			r.NonForwarding, r.Forward = false, &ir.Forward{Clusters: []ir.WeightedCluster{{Name: "api", Weight: 1}}}
		}, srv + ".http.routeConfig.virtualHosts[0].routes[0].nonForwarding: must be set on a server listener"},
		{"identity from a secret", func(p *ir.Proxy) { serverChain(p).TLS.IdentitySecret = "identity" }, srv + ".tls: a proxyless dataplane's certificates come from certificate providers"},
		{"no identity provider", func(p *ir.Proxy) { serverChain(p).TLS.IdentityProvider = "" }, srv + ".tls.identityProvider: must be set"},
		{"client cert without trust", func(p *ir.Proxy) { serverChain(p).TLS.ValidationProvider = "" }, srv + ".tls.validationProvider: must be set with requireClientCert"},
		{"SAN matcher on a server", func(p *ir.Proxy) { serverChain(p).TLS.SANPrefix = "spiffe://alpha/" }, srv + ".tls.sanPrefix: gRPC NACKs SAN matchers on a server"},
		{"RBAC without client certs", func(p *ir.Proxy) { serverChain(p).TLS = nil }, srv + ".rbac: requires tls.requireClientCert"},
		{"fault", func(p *ir.Proxy) { serverChain(p).HTTP.Faults = []ir.Fault{{Name: "f"}} }, srv + ".http: faults, access logs"},
		{"API listener with an address", func(p *ir.Proxy) { p.Listeners[1].Address = "127.0.0.1" }, api + ".address: an API listener"},
		{"API listener with TLS", func(p *ir.Proxy) { p.Listeners[1].FilterChains[0].TLS = &ir.DownstreamTLS{} }, api + ".filterChains[0]: an API listener terminates no connection"},
		{"API route leaves it to the server", func(p *ir.Proxy) { apiRoute(p).NonForwarding, apiRoute(p).Forward = true, nil }, api + ".filterChains[0].http.routeConfig.virtualHosts[0].routes[0].nonForwarding: only a server listener"},
		{"redirect", func(p *ir.Proxy) { apiRoute(p).Forward, apiRoute(p).Redirect = nil, &ir.Redirect{StatusCode: 301} }, "gRPC implements neither header mutations, redirects nor direct responses"},
		{"mirror", func(p *ir.Proxy) { apiRoute(p).Forward.Mirrors = []ir.Mirror{{Cluster: "api", Percent: 1}} }, "gRPC implements no mirrors"},
		{"unknown cluster", func(p *ir.Proxy) { apiRoute(p).Forward.Clusters[0].Name = "nope" }, `references unknown cluster "nope"`},
		{"STATIC cluster", func(p *ir.Proxy) { p.Clusters[0].Type = ir.ClusterStatic }, `clusters[0].type: a proxyless dataplane's clusters are EDS`},
		{"HTTP/1 cluster", func(p *ir.Proxy) { p.Clusters[0].Protocol = ir.ClusterHTTP }, `clusters[0].protocol: must be http2`},
		{"cluster trust from a secret", func(p *ir.Proxy) { p.Clusters[0].MTLS.ValidationSecret = "mesh_ca" }, "clusters[0].mtls: a proxyless dataplane's certificates come from certificate providers"},
		{"cluster without SAN", func(p *ir.Proxy) { p.Clusters[0].MTLS.SAN = "" }, "clusters[0].mtls.san: must be set"},
		{"cluster policy", func(p *ir.Proxy) { p.Clusters[0].Timeouts = &ir.ClusterTimeouts{} }, "clusters[0]: connection policies are not translated for gRPC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := proxylessProxy()
			c.mutate(p)
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// A route that leaves the request to the application is gRPC's; an Envoy would find no action.
func TestValidateNonForwardingOnlyProxyless(t *testing.T) {
	p := proxylessProxy()
	p.Proxyless = false
	err := p.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nonForwarding: only the server routes of a proxyless dataplane")
}
