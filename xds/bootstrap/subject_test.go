package bootstrap

import (
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// TestZoneIngressBootstrap: a ZoneIngress's Envoy connects as node `.<name>` with its admin
// port and its token, and carries no dataplane resource.
func TestZoneIngressBootstrap(t *testing.T) {
	objs, errs := api.Decode("ingress.yaml", []byte(`type: ZoneIngress
name: ingress-1
networking: {address: 10.0.0.1, port: 10001, advertisedAddress: 203.0.113.1, advertisedPort: 10001, admin: {port: 9902}}
`))
	require.Empty(t, errs)
	b, err := New(Request{ZoneIngress: objs[0].(*api.ZoneIngress), ControlPlane: "127.0.0.1:5678", Token: "tok", Insecure: true})
	require.NoError(t, err)
	require.Equal(t, ".ingress-1", b.GetNode().GetId())
	require.Equal(t, "ingress-1", b.GetNode().GetCluster())
	require.NotContains(t, b.GetNode().GetMetadata().GetFields(), "dataplane.resource")
	require.EqualValues(t, 9902, b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue())
	md := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetInitialMetadata()
	require.Equal(t, "Bearer tok", md[0].GetValue())

	_, err = New(Request{ControlPlane: "127.0.0.1:5678", Insecure: true})
	require.ErrorContains(t, err, "exactly one of a Dataplane and a ZoneIngress")
}
