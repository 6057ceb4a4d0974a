package bootstrap

import (
	"strconv"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func gateway() *api.Dataplane {
	return &api.Dataplane{
		Meta: api.Meta{Kind: api.KindDataplane, Mesh: "default", Name: "gw-1"},
		Spec: api.DataplaneSpec{Networking: api.Networking{Address: "10.0.0.1",
			Gateway: &api.DataplaneGateway{Type: api.GatewayBuiltin, Tags: map[string]string{"kuma.io/service": "edge"}}}},
	}
}

func TestBootstrap(t *testing.T) {
	cases := []struct {
		cp       string
		wantHost string
		wantPort uint32
		static   bool
	}{
		{"127.0.0.1:5678", "127.0.0.1", 5678, true},
		{"grpc://cp.example.internal:5678", "cp.example.internal", 5678, false},
		{":5678", "127.0.0.1", 5678, true},
	}
	for _, c := range cases {
		t.Run(c.cp, func(t *testing.T) {
			caPEM := certs.EncodeCertificates(certstest.NewRoot(t, "cp-ca").Root())
			b, err := New(Request{Dataplane: gateway(), ControlPlane: c.cp, ControlPlaneCA: caPEM})
			require.NoError(t, err)
			assert.Equal(t, "default.gw-1", b.GetNode().GetId())
			assert.Equal(t, "edge", b.GetNode().GetCluster())
			assert.Contains(t, b.GetNode().GetMetadata().GetFields()["dataplane.resource"].GetStringValue(), `"name":"gw-1"`)
			assert.Equal(t, "127.0.0.1", b.GetAdmin().GetAddress().GetSocketAddress().GetAddress())
			cl := b.GetStaticResources().GetClusters()[0]
			ep := cl.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
			assert.Equal(t, c.wantHost, ep.GetAddress())
			assert.Equal(t, c.wantPort, ep.GetPortValue())
			assert.Equal(t, c.static, cl.GetType().String() == "STATIC")
			assert.Equal(t, XDSCluster, b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName())
			assert.NotNil(t, b.GetDynamicResources().GetLdsConfig().GetAds())
			assert.NotNil(t, b.GetDynamicResources().GetCdsConfig().GetAds())

			// What we print must load back as a valid bootstrap, as Envoy would parse it.
			raw, err := protojson.Marshal(b)
			require.NoError(t, err)
			var back bootstrapv3.Bootstrap
			require.NoError(t, protojson.Unmarshal(raw, &back))
			require.NoError(t, back.ValidateAll())
		})
	}
}

func TestBootstrapRejectsBadAddress(t *testing.T) {
	for _, cp := range []string{"", "localhost", "https://cp:5678", "cp:0", "cp:99999"} {
		_, err := New(Request{Dataplane: gateway(), ControlPlane: cp, Insecure: true})
		assert.Error(t, err, cp)
	}
}

// The xDS cluster trusts only the given CA and checks the control plane's name: a DNS SAN and
// SNI for a host name, an IP SAN for an address. Plain text only when asked for.
func TestBootstrapTLS(t *testing.T) {
	caPEM := certs.EncodeCertificates(certstest.NewRoot(t, "cp-ca").Root())
	for _, c := range []struct {
		cp, san, sanType, sni string
	}{
		{"cp.example.internal:5678", "cp.example.internal", "DNS", "cp.example.internal"},
		{"10.1.2.3:5678", "10.1.2.3", "IP_ADDRESS", ""},
	} {
		b, err := New(Request{Dataplane: gateway(), ControlPlane: c.cp, ControlPlaneCA: caPEM})
		require.NoError(t, err)
		ts := b.GetStaticResources().GetClusters()[0].GetTransportSocket()
		require.NotNil(t, ts, c.cp)
		var up tlsv3.UpstreamTlsContext
		require.NoError(t, ts.GetTypedConfig().UnmarshalTo(&up))
		vc := up.GetCommonTlsContext().GetValidationContext()
		assert.Equal(t, caPEM, vc.GetTrustedCa().GetInlineBytes())
		require.Len(t, vc.GetMatchTypedSubjectAltNames(), 1)
		assert.Equal(t, c.sanType, vc.GetMatchTypedSubjectAltNames()[0].GetSanType().String())
		assert.Equal(t, c.san, vc.GetMatchTypedSubjectAltNames()[0].GetMatcher().GetExact())
		assert.Equal(t, c.sni, up.GetSni())
	}

	_, err := New(Request{Dataplane: gateway(), ControlPlane: "127.0.0.1:5678"})
	require.ErrorContains(t, err, "no control-plane CA")
	_, err = New(Request{Dataplane: gateway(), ControlPlane: "127.0.0.1:5678", ControlPlaneCA: []byte("not PEM")})
	require.ErrorContains(t, err, "control-plane CA")
	b, err := New(Request{Dataplane: gateway(), ControlPlane: "127.0.0.1:5678", Insecure: true})
	require.NoError(t, err)
	assert.Nil(t, b.GetStaticResources().GetClusters()[0].GetTransportSocket())
}

// Replicas add one endpoint each to the xDS cluster and one SAN each to what Envoy accepts, in
// the order given; the first address alone builds the cluster it always did.
func TestBootstrapReplicas(t *testing.T) {
	caPEM := certs.EncodeCertificates(certstest.NewRoot(t, "cp-ca").Root())
	one, err := New(Request{Dataplane: gateway(), ControlPlane: "10.0.0.1:5678", ControlPlaneCA: caPEM})
	require.NoError(t, err)
	b, err := New(Request{Dataplane: gateway(), ControlPlane: "10.0.0.1:5678", Replicas: []string{"cp-2.internal:5678", "grpc://10.0.0.3:5679"},
		ControlPlaneCA: caPEM})
	require.NoError(t, err)
	require.NoError(t, b.ValidateAll())
	cl := b.GetStaticResources().GetClusters()[0]
	assert.Equal(t, "STRICT_DNS", cl.GetType().String(), "a host name among the addresses is resolved")
	assert.Equal(t, "STATIC", one.GetStaticResources().GetClusters()[0].GetType().String())
	var addrs []string
	for _, ep := range cl.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints() {
		sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
		addrs = append(addrs, sa.GetAddress()+":"+strconv.Itoa(int(sa.GetPortValue())))
	}
	assert.Equal(t, []string{"10.0.0.1:5678", "cp-2.internal:5678", "10.0.0.3:5679"}, addrs)

	var up tlsv3.UpstreamTlsContext
	require.NoError(t, cl.GetTransportSocket().GetTypedConfig().UnmarshalTo(&up))
	var sans []string
	for _, m := range up.GetCommonTlsContext().GetValidationContext().GetMatchTypedSubjectAltNames() {
		sans = append(sans, m.GetSanType().String()+"="+m.GetMatcher().GetExact())
	}
	assert.Equal(t, []string{"IP_ADDRESS=10.0.0.1", "DNS=cp-2.internal", "IP_ADDRESS=10.0.0.3"}, sans)
	assert.Equal(t, "cp-2.internal", up.GetSni(), "the one host name is the SNI")
	assert.False(t, up.GetAutoHostSni())

	b, err = New(Request{Dataplane: gateway(), ControlPlane: "cp-1.internal:5678", Replicas: []string{"cp-2.internal:5678"}, ControlPlaneCA: caPEM})
	require.NoError(t, err)
	require.NoError(t, b.GetStaticResources().GetClusters()[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&up))
	assert.Empty(t, up.GetSni(), "several names: no one fixed SNI")
	assert.True(t, up.GetAutoHostSni(), "each connection names the replica it reaches")

	_, err = New(Request{Dataplane: gateway(), ControlPlane: "10.0.0.1:5678", Replicas: []string{"10.0.0.1:5678"}, Insecure: true})
	require.ErrorContains(t, err, "given twice")
	_, err = New(Request{Dataplane: gateway(), ControlPlane: "10.0.0.1:5678", Replicas: []string{"cp-2"}, Insecure: true})
	require.ErrorContains(t, err, "want host:port")
}
