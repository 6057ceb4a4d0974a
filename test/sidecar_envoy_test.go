package test

import (
	"crypto/x509"
	"net"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/meshgate/meshgate/certs"
)

// miniEnvoy is a state-of-the-world ADS client that behaves like Envoy on one stream: it
// subscribes to every cluster and listener, then by name to the endpoints, route
// configurations and secrets they reference, follows those references as they change, checks
// every resource with its proto validation (what Envoy rejects first), and ACKs.
type miniEnvoy struct {
	t *testing.T
	c *sotwClient

	names    map[string][]string // names subscribed to, for EDS, RDS and SDS
	versions map[string]string
	nonces   map[string]string
	pushes   map[string]int // responses received, by type

	clusters  map[string]*clusterv3.Cluster
	listeners map[string]*listenerv3.Listener
	endpoints map[string]*endpointv3.ClusterLoadAssignment
	routes    map[string]*routev3.RouteConfiguration
	secrets   map[string]*tlsv3.Secret
}

// byName are the types Envoy subscribes to by name; clusters and listeners are wildcards.
var byName = []string{resourcev3.EndpointType, resourcev3.RouteType, resourcev3.SecretType}

func newMiniEnvoy(t *testing.T, c *sotwClient) *miniEnvoy {
	return &miniEnvoy{
		t: t, c: c,
		names: map[string][]string{}, versions: map[string]string{}, nonces: map[string]string{}, pushes: map[string]int{},
		clusters: map[string]*clusterv3.Cluster{}, listeners: map[string]*listenerv3.Listener{},
		endpoints: map[string]*endpointv3.ClusterLoadAssignment{}, routes: map[string]*routev3.RouteConfiguration{},
		secrets: map[string]*tlsv3.Secret{},
	}
}

// start runs Envoy's start-up: CDS, then LDS, then whatever EDS, RDS and SDS they reference.
func (e *miniEnvoy) start() {
	e.t.Helper()
	e.c.subscribe(resourcev3.ClusterType)
	e.await(resourcev3.ClusterType, wait)
	e.c.subscribe(resourcev3.ListenerType)
	e.await(resourcev3.ListenerType, wait)
	for _, typ := range byName {
		// A later subscription (LDS adding secrets to CDS's) is answered by a later response.
		for len(e.missing(typ)) > 0 {
			e.await(typ, wait)
		}
	}
}

// missing lists the names subscribed to for typ that no response has delivered yet.
func (e *miniEnvoy) missing(typ string) []string {
	var have func(string) bool
	switch typ {
	case resourcev3.EndpointType:
		have = func(n string) bool { return e.endpoints[n] != nil }
	case resourcev3.RouteType:
		have = func(n string) bool { return e.routes[n] != nil }
	case resourcev3.SecretType:
		have = func(n string) bool { return e.secrets[n] != nil }
	}
	var out []string
	for _, n := range e.names[typ] {
		if !have(n) {
			out = append(out, n)
		}
	}
	return out
}

// await waits for the next response of typ, applies it and ACKs it.
func (e *miniEnvoy) await(typ string, timeout time.Duration) *discoveryv3.DiscoveryResponse {
	e.t.Helper()
	resp := e.c.next(typ, timeout)
	e.apply(resp)
	return resp
}

// drain applies everything that arrives within d and returns how many responses of each type.
func (e *miniEnvoy) drain(d time.Duration) map[string]int {
	e.t.Helper()
	got := map[string]int{}
	held := e.c.held
	e.c.held = nil
	for _, resp := range held {
		got[resp.TypeUrl]++
		e.apply(resp)
	}
	deadline := time.After(d)
	for {
		select {
		case resp, ok := <-e.c.recv:
			require.True(e.t, ok, "stream closed")
			got[resp.TypeUrl]++
			e.apply(resp)
		case <-deadline:
			return got
		}
	}
}

// apply stores a response's resources, ACKs it, and updates the by-name subscriptions it
// changes, as Envoy does when a cluster or listener starts or stops referencing a name.
func (e *miniEnvoy) apply(resp *discoveryv3.DiscoveryResponse) {
	e.t.Helper()
	typ := resp.TypeUrl
	e.pushes[typ]++
	for _, a := range resp.Resources {
		m, err := a.UnmarshalNew()
		require.NoError(e.t, err)
		if v, ok := m.(interface{ ValidateAll() error }); ok {
			require.NoError(e.t, v.ValidateAll(), "%s: Envoy would NACK this resource", typ)
		}
	}
	switch typ {
	case resourcev3.ClusterType:
		e.clusters = decodeAll[*clusterv3.Cluster](e.t, resp)
	case resourcev3.ListenerType:
		e.listeners = decodeAll[*listenerv3.Listener](e.t, resp)
	case resourcev3.EndpointType:
		e.endpoints = decodeAll[*endpointv3.ClusterLoadAssignment](e.t, resp)
	case resourcev3.RouteType:
		e.routes = decodeAll[*routev3.RouteConfiguration](e.t, resp)
	case resourcev3.SecretType:
		e.secrets = decodeAll[*tlsv3.Secret](e.t, resp)
	}
	e.versions[typ], e.nonces[typ] = resp.VersionInfo, resp.Nonce
	e.c.ack(resp, e.names[typ]...)
	if typ == resourcev3.ClusterType || typ == resourcev3.ListenerType {
		e.resubscribe()
	}
}

// resubscribe asks by name for what the current clusters and listeners reference.
func (e *miniEnvoy) resubscribe() {
	e.t.Helper()
	want := map[string][]string{
		resourcev3.EndpointType: edsNames(e.clusters),
		resourcev3.RouteType:    rdsNames(e.t, e.listeners),
		resourcev3.SecretType:   sdsNames(e.t, e.clusters, e.listeners),
	}
	for _, typ := range byName {
		if slices.Equal(want[typ], e.names[typ]) {
			continue
		}
		e.names[typ] = want[typ]
		if len(want[typ]) == 0 {
			continue // an empty SotW request would mean "everything"
		}
		e.c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: e.versions[typ], ResponseNonce: e.nonces[typ], ResourceNames: want[typ]})
	}
}

func decodeAll[M proto.Message](t *testing.T, resp *discoveryv3.DiscoveryResponse) map[string]M {
	t.Helper()
	out := map[string]M{}
	for _, a := range resp.Resources {
		m, err := a.UnmarshalNew()
		require.NoError(t, err)
		typed, ok := m.(M)
		require.True(t, ok, "%T in a %s response", m, resp.TypeUrl)
		out[cache.GetResourceName(typed)] = typed
	}
	return out
}

func edsNames(clusters map[string]*clusterv3.Cluster) []string {
	var out []string
	for name, c := range clusters {
		if c.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		if s := c.GetEdsClusterConfig().GetServiceName(); s != "" {
			name = s
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// hcmOf returns the HTTP connection manager of a filter chain, or nil.
func hcmOf(t *testing.T, fc *listenerv3.FilterChain) *hcmv3.HttpConnectionManager {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.GetName() == "envoy.filters.network.http_connection_manager" {
			var h hcmv3.HttpConnectionManager
			require.NoError(t, f.GetTypedConfig().UnmarshalTo(&h))
			return &h
		}
	}
	return nil
}

// tcpProxyOf returns the TCP proxy of a filter chain, or nil.
func tcpProxyOf(t *testing.T, fc *listenerv3.FilterChain) *tcpproxyv3.TcpProxy {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.GetName() == "envoy.filters.network.tcp_proxy" {
			var p tcpproxyv3.TcpProxy
			require.NoError(t, f.GetTypedConfig().UnmarshalTo(&p))
			return &p
		}
	}
	return nil
}

// rbacOf returns the network RBAC filter of a filter chain, or nil.
func rbacOf(t *testing.T, fc *listenerv3.FilterChain) *rbacv3.RBAC {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.GetName() == "envoy.filters.network.rbac" {
			var r rbacv3.RBAC
			require.NoError(t, f.GetTypedConfig().UnmarshalTo(&r))
			return &r
		}
	}
	return nil
}

func chainsOf(l *listenerv3.Listener) []*listenerv3.FilterChain {
	out := slices.Clone(l.GetFilterChains())
	if d := l.GetDefaultFilterChain(); d != nil {
		out = append(out, d)
	}
	return out
}

func rdsNames(t *testing.T, listeners map[string]*listenerv3.Listener) []string {
	t.Helper()
	set := map[string]bool{}
	for _, l := range listeners {
		for _, fc := range chainsOf(l) {
			if h := hcmOf(t, fc); h != nil && h.GetRds() != nil {
				set[h.GetRds().GetRouteConfigName()] = true
			}
		}
	}
	return sortedKeys(set)
}

func downstreamTLS(t *testing.T, fc *listenerv3.FilterChain) *tlsv3.DownstreamTlsContext {
	t.Helper()
	ts := fc.GetTransportSocket()
	if ts == nil {
		return nil
	}
	var d tlsv3.DownstreamTlsContext
	require.NoError(t, ts.GetTypedConfig().UnmarshalTo(&d))
	return &d
}

func upstreamTLS(t *testing.T, c *clusterv3.Cluster) *tlsv3.UpstreamTlsContext {
	t.Helper()
	ts := c.GetTransportSocket()
	if ts == nil {
		return nil
	}
	var u tlsv3.UpstreamTlsContext
	require.NoError(t, ts.GetTypedConfig().UnmarshalTo(&u))
	return &u
}

// sdsRefs lists the SDS secrets a TLS context names.
func sdsRefs(ctx *tlsv3.CommonTlsContext) []string {
	var out []string
	for _, s := range ctx.GetTlsCertificateSdsSecretConfigs() {
		out = append(out, s.GetName())
	}
	if s := ctx.GetValidationContextSdsSecretConfig(); s != nil {
		out = append(out, s.GetName())
	}
	if s := ctx.GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); s != nil {
		out = append(out, s.GetName())
	}
	return out
}

func sdsNames(t *testing.T, clusters map[string]*clusterv3.Cluster, listeners map[string]*listenerv3.Listener) []string {
	t.Helper()
	set := map[string]bool{}
	for _, c := range clusters {
		for _, n := range sdsRefs(upstreamTLS(t, c).GetCommonTlsContext()) {
			set[n] = true
		}
	}
	for _, l := range listeners {
		for _, fc := range chainsOf(l) {
			for _, n := range sdsRefs(downstreamTLS(t, fc).GetCommonTlsContext()) {
				set[n] = true
			}
		}
	}
	return sortedKeys(set)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sanExact is the exact URI SAN an upstream TLS context checks.
func sanExact(u *tlsv3.UpstreamTlsContext) []string {
	var out []string
	for _, m := range u.GetCommonTlsContext().GetCombinedValidationContext().GetDefaultValidationContext().GetMatchTypedSubjectAltNames() {
		if m.GetSanType() == tlsv3.SubjectAltNameMatcher_URI {
			out = append(out, m.GetMatcher().GetExact())
		}
	}
	return out
}

// endpointAddrs lists a load assignment's endpoints as host:port.
func endpointAddrs(cla *endpointv3.ClusterLoadAssignment) []string {
	var out []string
	for _, le := range cla.GetEndpoints() {
		for _, lb := range le.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			out = append(out, joinHostPort(sa))
		}
	}
	sort.Strings(out)
	return out
}

func joinHostPort(sa *corev3.SocketAddress) string {
	return net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
}

// svidChain parses the certificate chain of an identity secret.
func svidChain(t *testing.T, s *tlsv3.Secret) []*x509.Certificate {
	t.Helper()
	require.NotNil(t, s, "identity secret")
	chain, err := certs.ParseCertificates([]byte(s.GetTlsCertificate().GetCertificateChain().GetInlineString()))
	require.NoError(t, err)
	require.NotEmpty(t, chain)
	return chain
}
