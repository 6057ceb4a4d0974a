package bootstrap

import (
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	api "github.com/meshgate/meshgate/api/v1alpha1"
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
			b, err := New(Request{Dataplane: gateway(), ControlPlane: c.cp})
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
		_, err := New(Request{Dataplane: gateway(), ControlPlane: cp})
		assert.Error(t, err, cp)
	}
}
