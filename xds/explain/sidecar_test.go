package explain

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// The sidecar fixture has the translator's shapes: an mTLS inbound (mesh bundle + SAN prefix,
// network RBAC, fault filters, RDS to the local application), a cross-mesh gateway chain
// (SPIFFE validator over SDS), outbounds on VIPs behind a use_original_dst redirect listener,
// an explicit outbound on 127.0.0.1, and clusters of every type.

func sockAddr(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Protocol: corev3.SocketAddress_TCP, Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func sds(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}
}

func prefixString(p string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: p}}
}

// meshInboundTLS is a sidecar inbound's DownstreamTlsContext.
func meshInboundTLS(t *testing.T, mesh string) *corev3.TransportSocket {
	ctx := &tlsv3.DownstreamTlsContext{
		RequireClientCertificate: wrapperspb.Bool(true),
		CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("identity_cert:secret:" + mesh)},
			ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext: &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
					SanType: tlsv3.SubjectAltNameMatcher_URI, Matcher: prefixString("spiffe://" + mesh + "/"),
				}}},
				ValidationContextSdsSecretConfig: sds("mesh_ca:secret:" + mesh),
			}},
		},
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, ctx)}}
}

func crossMeshTLS(t *testing.T) *corev3.TransportSocket {
	ctx := &tlsv3.DownstreamTlsContext{
		RequireClientCertificate: wrapperspb.Bool(true),
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:                  []string{"kuma"},
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("identity_cert:secret:payments")},
			ValidationContextType:          &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{ValidationContextSdsSecretConfig: sds("mesh_ca:secret:all")},
		},
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, ctx)}}
}

func spiffeSecret(t *testing.T, domains ...string) *tlsv3.Secret {
	cfg := &tlsv3.SPIFFECertValidatorConfig{}
	for _, d := range domains {
		cfg.TrustDomains = append(cfg.TrustDomains, &tlsv3.SPIFFECertValidatorConfig_TrustDomain{
			Name: d, TrustBundle: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "PEM " + d}},
		})
	}
	return &tlsv3.Secret{Name: "mesh_ca:secret:all", Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
		CustomValidatorConfig: &corev3.TypedExtensionConfig{Name: "envoy.tls.cert_validator.spiffe", TypedConfig: mustAny(t, cfg)},
	}}}
}

func authenticated(m *matcherv3.StringMatcher) *rbacconfigv3.Principal {
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_Authenticated_{Authenticated: &rbacconfigv3.Principal_Authenticated{PrincipalName: m}}}
}

func notID(p *rbacconfigv3.Principal) *rbacconfigv3.Principal {
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_NotId{NotId: p}}
}

func andIDs(ps ...*rbacconfigv3.Principal) *rbacconfigv3.Principal {
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_AndIds{AndIds: &rbacconfigv3.Principal_Set{Ids: ps}}}
}

// rbacFilter is the translator's network RBAC filter: ALLOW, one policy per name, any permission.
func rbacFilter(t *testing.T, policies map[string][]*rbacconfigv3.Principal) *listenerv3.Filter {
	rules := &rbacconfigv3.RBAC{Action: rbacconfigv3.RBAC_ALLOW, Policies: map[string]*rbacconfigv3.Policy{}}
	for name, ps := range policies {
		rules.Policies[name] = &rbacconfigv3.Policy{
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals:  ps,
		}
	}
	cfg := &rbacv3.RBAC{StatPrefix: "inbound.", Rules: rules}
	return &listenerv3.Filter{Name: "envoy.filters.network.rbac", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, cfg)}}
}

func faultFilter(t *testing.T, tagRegex string, delay int64, delayPct uint32, abort, abortPct uint32) *hcmv3.HttpFilter {
	f := &faultv3.HTTPFault{}
	if tagRegex != "" {
		f.Headers = []*routev3.HeaderMatcher{headerString("x-kuma-tags", regexString(tagRegex))}
	}
	if delay > 0 {
		f.Delay = &faultcommonv3.FaultDelay{
			FaultDelaySecifier: &faultcommonv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(1e9 * 5)},
			Percentage:         &typev3.FractionalPercent{Numerator: delayPct * 10000, Denominator: typev3.FractionalPercent_MILLION},
		}
	}
	if abort > 0 {
		f.Abort = &faultv3.FaultAbort{
			ErrorType:  &faultv3.FaultAbort_HttpStatus{HttpStatus: abort},
			Percentage: &typev3.FractionalPercent{Numerator: abortPct * 10000, Denominator: typev3.FractionalPercent_MILLION},
		}
	}
	return &hcmv3.HttpFilter{Name: "envoy.filters.http.fault", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, f)}}
}

func sidecarHCM(t *testing.T, rc string, faults ...*hcmv3.HttpFilter) *listenerv3.Filter {
	filters := append(faults, &hcmv3.HttpFilter{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}})
	cfg := &hcmv3.HttpConnectionManager{
		StatPrefix: rc,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}},
			RouteConfigName: rc,
		}},
		HttpFilters: filters,
	}
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, cfg)}}
}

func tcpProxy(t *testing.T, cluster string) *listenerv3.Filter {
	tp := &tcpproxyv3.TcpProxy{StatPrefix: cluster, ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster}}
	return &listenerv3.Filter{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, tp)}}
}

func sidecarListener(name, ip string, port uint32, dir corev3.TrafficDirection, bind bool, chains ...*listenerv3.FilterChain) *listenerv3.Listener {
	l := &listenerv3.Listener{Name: name, Address: sockAddr(ip, port), TrafficDirection: dir, FilterChains: chains}
	if !bind {
		l.BindToPort = wrapperspb.Bool(false)
	}
	return l
}

func meshCluster(t *testing.T, name, ownMesh, destMesh, service string, endpoints ...string) *clusterv3.Cluster {
	c := cluster(name, map[string]string{"kuma.io/service": service})
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: service + "{mesh=" + destMesh + "}",
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:                  []string{"kuma"},
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("identity_cert:secret:" + ownMesh)},
			ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext: &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
					SanType: tlsv3.SubjectAltNameMatcher_URI, Matcher: exactString("spiffe://" + destMesh + "/" + service),
				}}},
				ValidationContextSdsSecretConfig: sds("mesh_ca:secret:" + destMesh),
			}},
		},
	}
	c.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, ctx)}}
	return c
}

func cla(name string, addrs ...[2]any) *endpointv3.ClusterLoadAssignment {
	loc := &endpointv3.LocalityLbEndpoints{}
	for _, a := range addrs {
		loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: sockAddr(a[0].(string), a[1].(uint32)),
		}}})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{loc}}
}

func staticCluster(name string, typ clusterv3.Cluster_DiscoveryType, host string, port uint32) *clusterv3.Cluster {
	return &clusterv3.Cluster{Name: name, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: typ}, LoadAssignment: cla(name, [2]any{host, port})}
}

func sidecar(t *testing.T) *envoyres.Resources {
	inbound := &listenerv3.FilterChain{
		Name:            "inbound:10.0.0.10:8080",
		TransportSocket: meshInboundTLS(t, "default"),
		Filters: []*listenerv3.Filter{
			rbacFilter(t, map[string][]*rbacconfigv3.Principal{
				"b-kong":   {authenticated(exactString("spiffe://default/kong"))},
				"a-orders": {authenticated(exactString("spiffe://default/orders"))},
				"c-v1":     {andIDs(authenticated(exactString("spiffe://default/web")), authenticated(exactString("kuma://version/v1")))},
				"d-regex":  {authenticated(regexString(`^spiffe://default/batch-[0-9]+$`))},
				"e-tagged": {authenticated(exactString("kuma://team/payments"))},
			}),
			sidecarHCM(t, "inbound:web",
				faultFilter(t, `.*&kuma\.io/service=kong&.*`, 5, 50, 0, 0),
				faultFilter(t, `.*&kuma\.io/service=orders&.*`, 0, 0, 503, 10),
				faultFilter(t, "", 0, 0, 500, 1)),
		},
	}
	ledger := &listenerv3.FilterChain{
		Name:            "inbound:10.0.0.10:5432",
		TransportSocket: meshInboundTLS(t, "default"),
		Filters:         []*listenerv3.Filter{rbacFilter(t, nil), tcpProxy(t, "localhost:5432")},
	}
	gateway := &listenerv3.FilterChain{
		Name:             "gw:HTTP:8443:*",
		FilterChainMatch: &listenerv3.FilterChainMatch{TransportProtocol: "tls", ApplicationProtocols: []string{"kuma"}},
		TransportSocket:  crossMeshTLS(t),
		Filters: []*listenerv3.Filter{
			rbacFilter(t, map[string][]*rbacconfigv3.Principal{
				// Confined to one trust domain, as the translator does for cross-mesh sources.
				"shop-prefix": {andIDs(authenticated(prefixString("spiffe://shop/")), notID(authenticated(prefixString("spiffe://default/"))))},
			}),
			sidecarHCM(t, "inbound:web"),
		},
	}
	passthrough := &listenerv3.FilterChain{Name: "outbound:passthrough:ipv4", Filters: []*listenerv3.Filter{tcpProxy(t, "outbound:passthrough:ipv4")}}
	redirect := sidecarListener("outbound:passthrough:ipv4", "0.0.0.0", 15001, corev3.TrafficDirection_OUTBOUND, true)
	redirect.UseOriginalDst = wrapperspb.Bool(true)
	redirect.DefaultFilterChain = passthrough
	inboundRedirect := sidecarListener("inbound:passthrough:ipv4", "0.0.0.0", 15006, corev3.TrafficDirection_INBOUND, true)
	inboundRedirect.UseOriginalDst = wrapperspb.Bool(true)
	inboundRedirect.DefaultFilterChain = &listenerv3.FilterChain{Name: "inbound:passthrough:ipv4", Filters: []*listenerv3.Filter{tcpProxy(t, "outbound:passthrough:ipv4")}}

	external := staticCluster("httpbin", clusterv3.Cluster_STRICT_DNS, "httpbin.org", 443)
	external.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, &tlsv3.UpstreamTlsContext{
		Sni: "httpbin.org", CommonTlsContext: &tlsv3.CommonTlsContext{},
	})}}
	verified := staticCluster("api-ext", clusterv3.Cluster_STRICT_DNS, "api.example.com", 443)
	verified.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, &tlsv3.UpstreamTlsContext{
		Sni: "api.example.com", CommonTlsContext: &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "PEM"}},
			MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
				SanType: tlsv3.SubjectAltNameMatcher_DNS, Matcher: exactString("api.example.com"),
			}},
		}}},
	})}}

	return &envoyres.Resources{
		Listeners: []*listenerv3.Listener{
			sidecarListener("inbound:10.0.0.10:8080", "10.0.0.10", 8080, corev3.TrafficDirection_INBOUND, false, inbound),
			sidecarListener("inbound:10.0.0.10:5432", "10.0.0.10", 5432, corev3.TrafficDirection_INBOUND, false, ledger),
			sidecarListener("gw:HTTP:8443", "10.0.0.10", 8443, corev3.TrafficDirection_INBOUND, true, gateway),
			sidecarListener("outbound:240.0.0.1:80", "240.0.0.1", 80, corev3.TrafficDirection_OUTBOUND, false,
				&listenerv3.FilterChain{Name: "outbound:240.0.0.1:80", Filters: []*listenerv3.Filter{sidecarHCM(t, "outbound:240.0.0.1:80")}}),
			sidecarListener("outbound:240.0.0.2:80", "240.0.0.2", 80, corev3.TrafficDirection_OUTBOUND, false,
				&listenerv3.FilterChain{Name: "outbound:240.0.0.2:80", Filters: []*listenerv3.Filter{tcpProxy(t, "payments-gateway{port=8080}_payments")}}),
			sidecarListener("outbound:240.0.0.3:443", "240.0.0.3", 443, corev3.TrafficDirection_OUTBOUND, false,
				&listenerv3.FilterChain{Name: "outbound:240.0.0.3:443", Filters: []*listenerv3.Filter{tcpProxy(t, "httpbin")}}),
			sidecarListener("outbound:240.0.0.4:443", "240.0.0.4", 443, corev3.TrafficDirection_OUTBOUND, false,
				&listenerv3.FilterChain{Name: "outbound:240.0.0.4:443", Filters: []*listenerv3.Filter{tcpProxy(t, "api-ext")}}),
			sidecarListener("outbound:127.0.0.1:9080", "127.0.0.1", 9080, corev3.TrafficDirection_OUTBOUND, true,
				&listenerv3.FilterChain{Name: "outbound:127.0.0.1:9080", Filters: []*listenerv3.Filter{tcpProxy(t, "payments-gateway{port=8080}_payments")}}),
			inboundRedirect,
			redirect,
		},
		Routes: []*routev3.RouteConfiguration{
			routeConfig("inbound:web", vhost("web", []string{"*"}, toCluster("inbound", prefix("/"), "localhost:8080"))),
			routeConfig("outbound:240.0.0.1:80", vhost("orders", []string{"*"}, toCluster("outbound", prefix("/"), "orders"))),
		},
		Clusters: []*clusterv3.Cluster{
			staticCluster("localhost:8080", clusterv3.Cluster_STATIC, "127.0.0.1", 8080),
			staticCluster("localhost:5432", clusterv3.Cluster_STATIC, "127.0.0.1", 5432),
			meshCluster(t, "orders", "default", "default", "orders"),
			meshCluster(t, "payments-gateway{port=8080}_payments", "default", "payments", "payments-gateway"),
			{Name: "outbound:passthrough:ipv4", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST}},
			external, verified,
		},
		Endpoints: []*endpointv3.ClusterLoadAssignment{
			cla("orders", [2]any{"10.0.0.11", uint32(8080)}, [2]any{"10.0.0.12", uint32(8080)}),
			cla("payments-gateway{port=8080}_payments", [2]any{"10.0.1.10", uint32(8080)}),
		},
		Secrets: []*tlsv3.Secret{spiffeSecret(t, "default", "shop")},
	}
}

func peer(uris ...string) *Peer { return &Peer{URIs: uris} }

func explainSidecar(t *testing.T, req Request) *Result {
	t.Helper()
	r, err := Explain(sidecar(t), req)
	require.NoError(t, err)
	return r
}

func inboundReq(src *Peer, headers ...Header) Request {
	return Request{Port: 8080, Address: "10.0.0.10", Host: "web.mesh", Path: "/", TLS: true, Source: src, Headers: headers}
}

func TestRBACEvaluation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		peer      *Peer
		policy    string
		principal string
	}{
		{"exact", peer("spiffe://default/kong", "kuma://kuma.io/service/kong"), "b-kong", "spiffe://default/kong"},
		// Policies are evaluated in name order: a-orders is tried before b-kong.
		{"name order", peer("spiffe://default/orders", "spiffe://default/kong"), "a-orders", "spiffe://default/orders"},
		// principal_name matches if any URI SAN matches, not only the SPIFFE ID.
		{"second URI", peer("spiffe://default/web", "kuma://team/payments"), "e-tagged", "kuma://team/payments"},
		{"and_ids", peer("spiffe://default/web", "kuma://kuma.io/service/web", "kuma://version/v1"), "c-v1", "spiffe://default/web and kuma://version/v1"},
		{"regex", peer("spiffe://default/batch-42"), "d-regex", `regex ^spiffe://default/batch-[0-9]+$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := explainSidecar(t, inboundReq(tc.peer))
			require.Len(t, r.RBAC, 1)
			c := r.RBAC[0]
			assert.True(t, c.Allowed)
			assert.Equal(t, tc.policy, c.Policy)
			assert.Equal(t, tc.principal, c.Principal)
			assert.Equal(t, []string{"a-orders", "b-kong", "c-v1", "d-regex", "e-tagged"}, c.Considered)
			require.NotNil(t, r.Action)
			assert.Equal(t, []string{"localhost:8080"}, clusters(r.Action))
		})
	}
	for _, tc := range []struct {
		name string
		peer *Peer
	}{
		{"and_ids needs every id", peer("spiffe://default/web", "kuma://version/v2")},
		{"regex is anchored", peer("spiffe://default/batch-42x")},
		{"exact is exact", peer("spiffe://default/kong-2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := explainSidecar(t, inboundReq(tc.peer))
			require.Len(t, r.RBAC, 1)
			assert.False(t, r.RBAC[0].Allowed)
			assert.Empty(t, r.RBAC[0].Policy)
			assert.True(t, r.Action.Close)
			assert.Empty(t, r.RouteConfig, "the connection never reaches the connection manager")
			assert.Contains(t, r.Text(), "rbac          denied: no policy admits "+tc.peer.URIs[0]+" (considered: a-orders, b-kong, c-v1, d-regex, e-tagged)\n")
		})
	}

	t.Run("no policies deny everyone", func(t *testing.T) {
		r := explainSidecar(t, Request{Port: 5432, Address: "10.0.0.10", TLS: true, Source: peer("spiffe://default/orders")})
		require.Len(t, r.RBAC, 1)
		assert.False(t, r.RBAC[0].Allowed)
		assert.True(t, r.Action.Close)
		assert.Contains(t, r.Text(), "rbac          denied: the filter has no policies, so it admits nobody\n")
	})
}

func TestInboundTLS(t *testing.T) {
	r := explainSidecar(t, inboundReq(nil))
	require.NotNil(t, r.TLS)
	assert.False(t, r.TLS.Accepted)
	assert.True(t, r.Action.Close)
	assert.Nil(t, r.RBAC, "refused before the network filters")
	assert.Equal(t, `listener      inbound:10.0.0.10:8080  (TLS, SNI web.mesh)
filter chain  inbound:10.0.0.10:8080
tls           requires a client certificate: mesh_ca:secret:default, URI SAN prefix spiffe://default/
peer          none: client certificate required
action        close the connection
reason        client certificate required: the TLS handshake fails and Envoy closes the connection
note          the connection to 10.0.0.10:8080 is redirected to inbound:passthrough:ipv4, which hands it to the listener on its original destination
`, r.Text())

	// Another mesh's identity is issued by another CA, which the mesh bundle does not hold.
	r = explainSidecar(t, inboundReq(peer("spiffe://shop/kong")))
	assert.False(t, r.TLS.Accepted)
	assert.Contains(t, r.TLS.Reason, "issued by shop's CA")

	// Issued by the right CA but outside the SAN prefix (a CA would not do it; explain still checks).
	r = explainSidecar(t, inboundReq(&Peer{URIs: []string{"kuma://kuma.io/service/kong"}, TrustDomain: "default"}))
	assert.False(t, r.TLS.Accepted)
	assert.Contains(t, r.TLS.Reason, "no URI SAN of the certificate matches URI SAN prefix spiffe://default/")

	r = explainSidecar(t, inboundReq(peer("spiffe://default/kong")))
	assert.True(t, r.TLS.Accepted)
	assert.Equal(t, []string{"identity_cert:secret:default"}, r.TLS.Identity)
	assert.Contains(t, r.Text(), "peer          spiffe://default/kong  (trust domain default: trusted)\n")

	r = explainSidecar(t, Request{Port: 8080, Address: "10.0.0.10", Host: "web.mesh", Plaintext: true, Source: peer("spiffe://default/kong")})
	assert.False(t, r.TLS.Accepted)
	assert.True(t, r.Action.Close)
}

func TestSPIFFEValidation(t *testing.T) {
	req := func(p *Peer) Request {
		return Request{Port: 8443, Host: "api.mesh", Path: "/", TLS: true, ALPN: []string{"kuma"}, Source: p}
	}
	r := explainSidecar(t, req(peer("spiffe://shop/checkout", "kuma://kuma.io/service/checkout")))
	require.NotNil(t, r.TLS)
	assert.True(t, r.TLS.Accepted)
	assert.Equal(t, []string{"default", "shop"}, r.TLS.TrustDomains)
	assert.Contains(t, r.Text(), "tls           requires a client certificate: mesh_ca:secret:all (SPIFFE validator: default, shop)\n")
	assert.Contains(t, r.Text(), "peer          spiffe://shop/checkout  (trust domain shop: trusted)\n")
	assert.Contains(t, r.Text(), "rbac          allowed by shop-prefix (principal prefix spiffe://shop/ and no URI SAN prefix spiffe://default/)\n")

	// A certificate carrying a second trust domain's ID cannot borrow its permissions.
	r = explainSidecar(t, req(peer("spiffe://shop/checkout", "spiffe://default/admin")))
	assert.True(t, r.TLS.Accepted, "the SPIFFE validator reads the first URI SAN")
	assert.False(t, r.RBAC[0].Allowed)

	r = explainSidecar(t, req(peer("spiffe://other/checkout")))
	assert.False(t, r.TLS.Accepted)
	assert.Equal(t, "trust domain other is not among the validator's trust domains (default, shop)", r.TLS.Reason)

	// Envoy's SPIFFE validator reads the first URI SAN only.
	r = explainSidecar(t, req(peer("kuma://kuma.io/service/checkout", "spiffe://shop/checkout")))
	assert.False(t, r.TLS.Accepted)
	assert.Contains(t, r.TLS.Reason, "is not a SPIFFE ID")

	// A trusted mesh's CA cannot vouch for another trust domain.
	r = explainSidecar(t, req(&Peer{URIs: []string{"spiffe://default/admin"}, TrustDomain: "shop"}))
	assert.False(t, r.TLS.Accepted)
	assert.Contains(t, r.TLS.Reason, "issued by shop's CA")

	// Trusted, but RBAC admits only mesh shop.
	r = explainSidecar(t, req(peer("spiffe://default/web")))
	assert.True(t, r.TLS.Accepted)
	assert.False(t, r.RBAC[0].Allowed)

	// Without the validator secret (an offline render) the trust domain cannot be checked.
	res := sidecar(t)
	res.Secrets = nil
	r, err := Explain(res, req(peer("spiffe://other/x")))
	require.NoError(t, err)
	assert.True(t, r.TLS.Accepted)
	assert.True(t, r.TLS.Unchecked)
	assert.Contains(t, r.Text(), "(SPIFFE validator, served by the control plane)")
}

func TestFaults(t *testing.T) {
	r := explainSidecar(t, inboundReq(peer("spiffe://default/kong"), Header{"x-kuma-tags", "&kuma.io/service=kong&"}))
	require.Len(t, r.Faults, 3)
	assert.True(t, r.Faults[0].Applies)
	assert.Equal(t, "5s", r.Faults[0].Delay)
	assert.Equal(t, 50.0, r.Faults[0].DelayPercent)
	assert.False(t, r.Faults[1].Applies, "abort is for orders")
	assert.True(t, r.Faults[2].Applies, "no headers: every request")
	text := r.Text()
	assert.Contains(t, text, "fault         delay 5s (50%)\n")
	assert.Contains(t, text, `fault         not applied (needs x-kuma-tags ~ .*&kuma\.io/service=orders&.*): abort HTTP 503 (10%)`+"\n")
	assert.Contains(t, text, "fault         abort HTTP 500 (1%)\n")

	r = explainSidecar(t, inboundReq(peer("spiffe://default/orders"), Header{"x-kuma-tags", "&kuma.io/service=orders&version=v1&"}))
	assert.False(t, r.Faults[0].Applies)
	assert.True(t, r.Faults[1].Applies)

	// Without x-kuma-tags only the unconditional fault applies.
	r = explainSidecar(t, inboundReq(peer("spiffe://default/orders")))
	assert.False(t, r.Faults[0].Applies)
	assert.False(t, r.Faults[1].Applies)
	assert.True(t, r.Faults[2].Applies)
}

func TestOutboundSelectionByAddress(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		port     uint32
		listener string
		cluster  string
	}{
		// A VIP: the redirect listener hands the connection to the virtual listener.
		{"240.0.0.1", 80, "outbound:240.0.0.1:80", "orders"},
		{"240.0.0.2", 80, "outbound:240.0.0.2:80", "payments-gateway{port=8080}_payments"},
		// Nothing on the original destination: the passthrough default chain.
		{"203.0.113.7", 80, "outbound:passthrough:ipv4", "outbound:passthrough:ipv4"},
		{"240.0.0.1", 81, "outbound:passthrough:ipv4", "outbound:passthrough:ipv4"},
		// An explicit outbound binds its address.
		{"127.0.0.1", 9080, "outbound:127.0.0.1:9080", "payments-gateway{port=8080}_payments"},
	} {
		r := explainSidecar(t, Request{Port: tc.port, Address: tc.addr, Host: "x.mesh", Path: "/"})
		assert.Equal(t, tc.listener, r.Listener, "%s:%d", tc.addr, tc.port)
		assert.True(t, r.Outbound)
		assert.Equal(t, []string{tc.cluster}, clusters(r.Action), "%s:%d", tc.addr, tc.port)
	}

	// Port alone is ambiguous on a sidecar.
	_, err := Explain(sidecar(t), Request{Port: 80, Host: "x"})
	assert.ErrorContains(t, err, "several listeners are on port 80 (outbound:240.0.0.1:80, outbound:240.0.0.2:80)")
	_, err = Explain(sidecar(t), Request{Port: 80, Host: "x", Address: "not-an-ip"})
	assert.ErrorContains(t, err, "not an IP address")

	// An inbound address goes through the inbound redirect listener.
	r := explainSidecar(t, Request{Port: 9999, Address: "10.0.0.10", Host: "x"})
	assert.Equal(t, "inbound:passthrough:ipv4", r.Listener)
	assert.False(t, r.Outbound)

	// Without a redirect listener, a listener that does not bind its port is unreachable.
	res := sidecar(t)
	res.Listeners = res.Listeners[:len(res.Listeners)-2]
	_, err = Explain(res, Request{Port: 80, Host: "x", Address: "240.0.0.1"})
	assert.ErrorContains(t, err, "does not bind its port")
	_, err = Explain(res, Request{Port: 80, Host: "x", Address: "203.0.113.7"})
	assert.ErrorContains(t, err, "no listener on 203.0.113.7:80")

	// A dataplane that redirects only outbound traffic: its own addresses are not redirected.
	res = sidecar(t)
	res.Listeners = append(res.Listeners[:len(res.Listeners)-2], res.Listeners[len(res.Listeners)-1])
	_, err = Explain(res, Request{Port: 8080, Host: "x", Address: "10.0.0.10"})
	assert.ErrorContains(t, err, "does not bind its port")
	r, err = Explain(res, Request{Port: 80, Host: "x", Address: "240.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, "outbound:240.0.0.1:80", r.Listener)
}

func TestUpstreamDescription(t *testing.T) {
	r := explainSidecar(t, Request{Port: 80, Address: "240.0.0.2", Host: "payments.mesh"})
	b := r.Action.Forward[0]
	assert.Equal(t, "EDS", b.Type)
	assert.Equal(t, []string{"10.0.1.10:8080"}, b.Addresses)
	require.NotNil(t, b.TLS)
	assert.Equal(t, &UpstreamTLS{
		SNI: "payments-gateway{mesh=payments}", ALPN: []string{"kuma"}, Identity: []string{"identity_cert:secret:default"},
		Validation: "mesh_ca:secret:payments", Verified: true,
		ServerSANs: []SANMatch{{Type: "URI", StringMatch: StringMatch{Exact: ptr("spiffe://payments/payments-gateway")}}},
	}, b.TLS)
	assert.Equal(t, `listener      outbound:240.0.0.2:80  (plaintext)
filter chain  outbound:240.0.0.2:80
action        forward to payments-gateway{port=8080}_payments  {kuma.io/service=payments-gateway}  1 endpoint
cluster       EDS 10.0.1.10:8080
upstream tls  presents identity_cert:secret:default; requires spiffe://payments/payments-gateway (mesh_ca:secret:payments)
note          the connection to 240.0.0.2:80 is redirected to outbound:passthrough:ipv4, which hands it to the listener on its original destination
`, r.Text())

	r = explainSidecar(t, Request{Port: 443, Address: "240.0.0.3", Host: "httpbin.mesh"})
	b = r.Action.Forward[0]
	assert.Equal(t, "STRICT_DNS", b.Type)
	assert.False(t, b.TLS.Verified)
	assert.Contains(t, r.Text(), "cluster       STRICT_DNS httpbin.org:443\n")
	assert.Contains(t, r.Text(), "upstream tls  SNI httpbin.org; server not verified (no validation context)\n")

	r = explainSidecar(t, Request{Port: 443, Address: "240.0.0.4", Host: "api.mesh"})
	assert.True(t, r.Action.Forward[0].TLS.Verified)
	assert.Contains(t, r.Text(), "upstream tls  SNI api.example.com; requires DNS SAN api.example.com (inline)\n")

	r = explainSidecar(t, Request{Port: 80, Address: "203.0.113.7", Host: "example.com"})
	assert.Contains(t, r.Text(), "cluster       ORIGINAL_DST (the connection's original destination)\n")

	r = explainSidecar(t, inboundReq(peer("spiffe://default/kong")))
	assert.Contains(t, r.Text(), "cluster       STATIC 127.0.0.1:8080\n")
}
