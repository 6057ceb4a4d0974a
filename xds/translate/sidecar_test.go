package translate

import (
	"errors"
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/snapshot"
)

// sidecarFixture is a representative sidecar of service web in mesh default behind a
// transparent proxy: an mTLS HTTP inbound with RBAC, faults and two access logs, an mTLS TCP
// inbound that admits nobody, HTTP and TCP outbounds on VIPs, the redirect listener, and every
// cluster type (the local application STATIC, a mesh service EDS, an external service and a
// Fluentd log sink STRICT_DNS, the passthrough ORIGINAL_DST).
func sidecarFixture(t *testing.T) *ir.Proxy {
	t.Helper()
	ca := certstest.NewRoot(t, "external-ca")
	client := ca.NewIntermediate(t, "client", certstest.NotCA())
	meshTLS := func() *ir.DownstreamTLS {
		return &ir.DownstreamTLS{
			IdentitySecret: names.IdentitySecret("default"), RequireClientCert: true,
			ValidationSecret: names.MeshCASecret("default"), SANPrefix: "spiffe://default/",
		}
	}
	sidecarHTTP := func(stat, rc, cluster string) *ir.HTTPConnectionManager {
		return &ir.HTTPConnectionManager{
			StatPrefix: stat, Sidecar: true,
			RouteConfig: ir.RouteConfig{Name: rc, VirtualHosts: []ir.VirtualHost{{
				Name: cluster, Domains: []string{"*"},
				Routes: []ir.Route{{
					Name: "default", Match: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
					Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}}},
				}},
			}}},
		}
	}
	inboundHTTP := sidecarHTTP("localhost:8080", names.InboundRouteConfig("web"), names.LocalCluster(8080))
	inboundHTTP.ForwardClientCert = true
	inboundHTTP.Faults = []ir.Fault{
		{Name: "slow-frontend", SourceTags: map[string]string{"kuma.io/service": "frontend", "version": "*"},
			Delay: &ir.FaultDelay{Percent: 50, Value: 5 * time.Second}, Abort: &ir.FaultAbort{Percent: 12.5, HTTPStatus: 503}},
		{Name: "throttle", ResponseBandwidth: &ir.FaultBandwidth{Percent: 100, LimitKbps: 64}},
	}
	inboundHTTP.AccessLogs = []ir.AccessLog{
		{Backend: "file", Path: "/dev/stdout"},
		{Backend: "logstash", TCP: &ir.TCPLogSink{Cluster: names.AccessLogCluster("logstash")}, Format: "%START_TIME% %RESPONSE_CODE%\n"},
	}
	outboundHTTP := sidecarHTTP("backend", "outbound:backend", "backend")
	outboundHTTP.AccessLogs = []ir.AccessLog{{Backend: "logstash", TCP: &ir.TCPLogSink{Cluster: names.AccessLogCluster("logstash")}}}

	return &ir.Proxy{
		Node: "default.web", Mesh: "default", Dataplane: "web",
		Listeners: []ir.Listener{
			{
				Name: names.InboundListener("10.0.0.5", 8080), Address: "10.0.0.5", Port: 8080, Protocol: ir.HTTP,
				StatPrefix: "web", Direction: ir.DirectionInbound, ConnectionLimit: 1000,
				FilterChains: []ir.FilterChain{{
					Name: names.InboundListener("10.0.0.5", 8080), TLS: meshTLS(),
					RBAC: &ir.RBAC{StatPrefix: names.InboundListener("10.0.0.5", 8080) + ".", Policies: []ir.RBACPolicy{
						{Name: "allow-frontend", Principals: []ir.Principal{{URIs: []ir.SANMatch{{Kind: ir.SANExact, Value: "spiffe://default/frontend"}}}}},
						{Name: "allow-v1", Principals: []ir.Principal{{URIs: []ir.SANMatch{
							{Kind: ir.SANPrefix, Value: "spiffe://default/"},
							{Kind: ir.SANRegex, Value: `kuma://version/v1(\.\d+)?`},
						}}}},
					}},
					HTTP: inboundHTTP,
				}},
			},
			{
				Name: names.InboundListener("10.0.0.5", 5432), Address: "10.0.0.5", Port: 5432, Protocol: ir.TCP, StatPrefix: "web",
				Direction: ir.DirectionInbound,
				FilterChains: []ir.FilterChain{{
					Name: names.InboundListener("10.0.0.5", 5432), TLS: meshTLS(),
					RBAC: &ir.RBAC{StatPrefix: names.InboundListener("10.0.0.5", 5432) + "."},
					TCP: &ir.TCPProxy{StatPrefix: "localhost:5432", Clusters: []ir.WeightedCluster{{Name: names.LocalCluster(5432), Weight: 1}},
						AccessLogs: []ir.AccessLog{{Backend: "file", Path: "/var/log/envoy/tcp.log"}}},
				}},
			},
			{
				Name: names.OutboundListener("240.0.0.1", 80), Address: "240.0.0.1", Port: 80, Protocol: ir.HTTP, StatPrefix: "backend",
				Direction: ir.DirectionOutbound, Virtual: true,
				FilterChains: []ir.FilterChain{{Name: names.OutboundListener("240.0.0.1", 80), HTTP: outboundHTTP}},
			},
			{
				Name: names.OutboundListener("240.0.0.2", 443), Address: "240.0.0.2", Port: 443, Protocol: ir.TCP, StatPrefix: "httpbin",
				Direction: ir.DirectionOutbound, Virtual: true,
				FilterChains: []ir.FilterChain{{Name: names.OutboundListener("240.0.0.2", 443),
					TCP: &ir.TCPProxy{StatPrefix: "httpbin", Clusters: []ir.WeightedCluster{{Name: "httpbin", Weight: 1}}}}},
			},
			{
				Name: names.OutboundPassthroughListener, Address: "0.0.0.0", Port: 15001, Protocol: ir.TCP, StatPrefix: "passthrough",
				Direction: ir.DirectionOutbound, UseOriginalDst: true,
				DefaultChain: &ir.FilterChain{Name: names.PassthroughCluster,
					TCP: &ir.TCPProxy{StatPrefix: names.PassthroughCluster, Clusters: []ir.WeightedCluster{{Name: names.PassthroughCluster, Weight: 1}}}},
			},
		},
		Clusters: []ir.Cluster{
			{Name: names.LocalCluster(8080), Type: ir.ClusterStatic, Service: "web", Protocol: ir.ClusterHTTP,
				Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: 8080}}},
			{Name: names.LocalCluster(5432), Type: ir.ClusterStatic, Service: "web", Protocol: ir.ClusterTCP, ConnectTimeout: 2 * time.Second,
				Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: 5432}}},
			{Name: "backend", Service: "backend", Protocol: ir.ClusterHTTP2, Destination: map[string]string{api.ServiceTag: "backend"},
				Endpoints: []ir.Endpoint{{Address: "10.0.1.1", Port: 80}},
				MTLS: &ir.UpstreamMTLS{
					IdentitySecret: names.IdentitySecret("default"), ValidationSecret: names.MeshCASecret("default"),
					SNI: "backend{mesh=default}", SAN: "spiffe://default/backend", ALPN: []string{names.MeshALPN},
				}},
			{Name: "httpbin", Type: ir.ClusterStrictDNS, Service: "httpbin", Protocol: ir.ClusterHTTP2,
				Endpoints: []ir.Endpoint{{Address: "httpbin.org", Port: 443}},
				TLS: &ir.UpstreamTLS{SNI: "httpbin.org", CA: string(ca.CertPEM()), VerifySAN: "httpbin.org", ALPN: []string{"h2"},
					ClientCertificate: string(client.CertPEM()), ClientKey: string(client.KeyPEM(t))}},
			{Name: names.AccessLogCluster("logstash"), Type: ir.ClusterStrictDNS, Service: "logstash", Protocol: ir.ClusterTCP,
				Endpoints: []ir.Endpoint{{Address: "logstash.logging.svc", Port: 5170}}},
			{Name: names.PassthroughCluster, Type: ir.ClusterOriginalDst, Service: "passthrough", Protocol: ir.ClusterTCP},
		},
		Secrets: []ir.Secret{
			{Name: names.IdentitySecret("default"), CertificateChain: "chain", PrivateKey: "key"},
			{Name: names.MeshCASecret("default"), TrustedCA: "bundle"},
		},
	}
}

// validateDeep runs ValidateAll on m and, recursively, on every typed config packed in an Any
// inside it: a resource's own ValidateAll does not look into its Anys.
func validateDeep(t *testing.T, m proto.Message) {
	t.Helper()
	require.NoError(t, deepValidate(m), "%T", m)
}

func deepValidate(m proto.Message) error {
	v, ok := m.(interface{ ValidateAll() error })
	if !ok {
		return fmt.Errorf("%T has no ValidateAll", m)
	}
	if err := v.ValidateAll(); err != nil {
		return err
	}
	var errs []error
	var walk func(protoreflect.Message)
	walk = func(msg protoreflect.Message) {
		if a, ok := msg.Interface().(*anypb.Any); ok {
			inner, err := a.UnmarshalNew()
			if err == nil {
				err = deepValidate(inner)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.GetTypeUrl(), err))
			}
			return
		}
		msg.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < val.List().Len(); i++ {
					walk(val.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				val.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(val.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return errors.Join(errs...)
}

func TestDeepValidateLooksIntoTypedConfigs(t *testing.T) {
	bad, err := toAny(&rbacv3.RBAC{StatPrefix: "x", Rules: &rbacconfigv3.RBAC{Policies: map[string]*rbacconfigv3.Policy{"p": {}}}})
	require.NoError(t, err)
	l := &listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
		Name: wellknown.RoleBasedAccessControl, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: bad},
	}}}}}
	require.NoError(t, l.ValidateAll(), "the listener alone does not see the packed config")
	err = deepValidate(l)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Permissions")
}

func translateSidecar(t *testing.T) *envoyres.Resources {
	t.Helper()
	res, err := Translate(sidecarFixture(t))
	require.NoError(t, err)
	for _, l := range res.Listeners {
		validateDeep(t, l)
	}
	for _, r := range res.Routes {
		validateDeep(t, r)
	}
	for _, c := range res.Clusters {
		validateDeep(t, c)
	}
	for _, e := range res.Endpoints {
		validateDeep(t, e)
	}
	for _, s := range res.Secrets {
		validateDeep(t, s)
	}
	_, err = snapshot.New(res)
	require.NoError(t, err, "ValidateAll and Consistent")
	return res
}

func listenerNamed(t *testing.T, res *envoyres.Resources, name string) *listenerv3.Listener {
	t.Helper()
	for _, l := range res.Listeners {
		if l.GetName() == name {
			return l
		}
	}
	require.Failf(t, "no listener", "%q", name)
	return nil
}

func clusterNamed(t *testing.T, res *envoyres.Resources, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range res.Clusters {
		if c.GetName() == name {
			return c
		}
	}
	require.Failf(t, "no cluster", "%q", name)
	return nil
}

func filterNames(fc *listenerv3.FilterChain) []string {
	var out []string
	for _, f := range fc.GetFilters() {
		out = append(out, f.GetName())
	}
	return out
}

func TestSidecarProxyTranslatesToValidConsistentSnapshot(t *testing.T) {
	res := translateSidecar(t)

	var routes, endpoints []string
	for _, r := range res.Routes {
		routes = append(routes, r.GetName())
	}
	for _, e := range res.Endpoints {
		endpoints = append(endpoints, e.GetClusterName())
	}
	assert.Equal(t, []string{"inbound:web", "outbound:backend"}, routes)
	assert.Equal(t, []string{"backend"}, endpoints, "only the EDS cluster has a ClusterLoadAssignment")

	types := map[string]clusterv3.Cluster_DiscoveryType{}
	for _, c := range res.Clusters {
		types[c.GetName()] = c.GetType()
	}
	assert.Equal(t, map[string]clusterv3.Cluster_DiscoveryType{
		"access_log_sink:logstash":  clusterv3.Cluster_STRICT_DNS,
		"backend":                   clusterv3.Cluster_EDS,
		"httpbin":                   clusterv3.Cluster_STRICT_DNS,
		"localhost:5432":            clusterv3.Cluster_STATIC,
		"localhost:8080":            clusterv3.Cluster_STATIC,
		"outbound:passthrough:ipv4": clusterv3.Cluster_ORIGINAL_DST,
	}, types)
}

func TestSidecarListeners(t *testing.T) {
	res := translateSidecar(t)
	cases := []struct {
		name        string
		direction   corev3.TrafficDirection
		bind        *bool
		originalDst bool
		filters     []string
	}{
		{"inbound:10.0.0.5:8080", corev3.TrafficDirection_INBOUND, nil, false,
			[]string{"envoy.filters.network.connection_limit", wellknown.RoleBasedAccessControl, wellknown.HTTPConnectionManager}},
		{"inbound:10.0.0.5:5432", corev3.TrafficDirection_INBOUND, nil, false,
			[]string{wellknown.RoleBasedAccessControl, wellknown.TCPProxy}},
		{"outbound:240.0.0.1:80", corev3.TrafficDirection_OUTBOUND, proto.Bool(false), false, []string{wellknown.HTTPConnectionManager}},
		{"outbound:240.0.0.2:443", corev3.TrafficDirection_OUTBOUND, proto.Bool(false), false, []string{wellknown.TCPProxy}},
		{"outbound:passthrough:ipv4", corev3.TrafficDirection_OUTBOUND, nil, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := listenerNamed(t, res, c.name)
			assert.Equal(t, c.direction, l.GetTrafficDirection())
			if c.bind == nil {
				assert.Nil(t, l.GetBindToPort())
			} else {
				require.NotNil(t, l.GetBindToPort())
				assert.Equal(t, *c.bind, l.GetBindToPort().GetValue())
			}
			assert.Equal(t, c.originalDst, l.GetUseOriginalDst().GetValue())
			assert.Nil(t, l.GetPerConnectionBufferLimitBytes(), "sidecars keep Envoy's buffer default")
			assert.Nil(t, l.GetEnableReusePort())
			assert.Empty(t, l.GetListenerFilters(), "no chain matches on TLS")
			if c.originalDst {
				assert.Empty(t, l.GetFilterChains())
				dc := l.GetDefaultFilterChain()
				require.NotNil(t, dc)
				assert.Equal(t, names.PassthroughCluster, dc.GetName())
				require.Equal(t, []string{wellknown.TCPProxy}, filterNames(dc))
				tp := unpack(t, dc.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
				assert.Equal(t, names.PassthroughCluster, tp.GetCluster())
				return
			}
			assert.Nil(t, l.GetDefaultFilterChain())
			require.Len(t, l.GetFilterChains(), 1)
			assert.Equal(t, c.filters, filterNames(l.GetFilterChains()[0]))
		})
	}

	// The TCP inbound's RBAC has rules but no policy: under ALLOW, nobody is admitted.
	fc := listenerNamed(t, res, "inbound:10.0.0.5:5432").GetFilterChains()[0]
	r := unpack(t, fc.GetFilters()[0].GetTypedConfig(), &rbacv3.RBAC{})
	require.NotNil(t, r.GetRules())
	assert.Empty(t, r.GetRules().GetPolicies())
}

func TestSidecarClusters(t *testing.T) {
	res := translateSidecar(t)

	local := clusterNamed(t, res, "localhost:5432")
	assert.Equal(t, 2*time.Second, local.GetConnectTimeout().AsDuration())
	assert.Nil(t, local.GetEdsClusterConfig())
	lbs := local.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()
	require.Len(t, lbs, 1)
	assert.Equal(t, "127.0.0.1", lbs[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress())

	pass := clusterNamed(t, res, names.PassthroughCluster)
	assert.Equal(t, clusterv3.Cluster_CLUSTER_PROVIDED, pass.GetLbPolicy())
	assert.Nil(t, pass.GetLoadAssignment())
	assert.Nil(t, pass.GetEdsClusterConfig())

	sink := clusterNamed(t, res, names.AccessLogCluster("logstash"))
	assert.Equal(t, clusterv3.Cluster_V4_PREFERRED, sink.GetDnsLookupFamily())
	assert.Equal(t, "logstash.logging.svc",
		sink.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress())

	assert.Equal(t, clusterv3.Cluster_EDS, clusterNamed(t, res, "backend").GetType())
	assert.Nil(t, clusterNamed(t, res, "backend").GetLoadAssignment())
}
