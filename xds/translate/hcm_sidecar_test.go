package translate

import (
	"testing"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/meshgate/meshgate/xds/ir"
)

// A sidecar connection manager keeps Envoy's defaults: none of the gateway's edge settings,
// the route configuration still over RDS, client certificate forwarding still honoured.
func TestSidecarHCMLeavesOutEdgeSettings(t *testing.T) {
	h := *fixture().Listeners[1].FilterChains[0].HTTP
	h.Options = ir.HTTPOptions{}
	h.Sidecar, h.ForwardClientCert = true, true
	out := translateHCM(t, h)

	want := &hcmv3.HttpConnectionManager{
		StatPrefix: "gw",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: ads(), RouteConfigName: "gw:HTTP:8080:*",
		}},
		HttpFilters:                 out.GetHttpFilters(),
		ForwardClientCertDetails:    hcmv3.HttpConnectionManager_SANITIZE_SET,
		SetCurrentClientCertDetails: &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{Uri: true},
	}
	assert.True(t, proto.Equal(want, out), "got %v", out)
	require.Len(t, out.GetHttpFilters(), 1)
	assert.Equal(t, wellknown.Router, out.GetHttpFilters()[0].GetName())
}

func TestGatewayHCMKeepsEdgeSettings(t *testing.T) {
	out := translateHCM(t, *fixture().Listeners[1].FilterChains[0].HTTP)
	assert.True(t, out.GetUseRemoteAddress().GetValue())
	assert.Equal(t, "Kuma Gateway", out.GetServerName())
	assert.NotNil(t, out.GetHttp2ProtocolOptions())
	assert.NotNil(t, out.GetInternalAddressConfig())
}
