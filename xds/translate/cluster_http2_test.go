package translate

import (
	"testing"

	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

// A sidecar's cluster to a mesh service speaks HTTP/2 with Envoy's own flow-control windows,
// as Kuma's Http2() does; gateway clusters keep the 64 KiB / 1 MiB windows.
func TestClusterHTTP2DefaultWindows(t *testing.T) {
	out := translateCluster(t, ir.Cluster{Name: "backend", Service: "backend", Protocol: ir.ClusterHTTP2, DefaultHTTP2Windows: true})
	raw := out.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]
	require.NotNil(t, raw)
	opts := unpack(t, raw, &upstreamhttpv3.HttpProtocolOptions{})
	requireValid(t, opts)
	h2 := opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions()
	require.NotNil(t, h2, "the upstream codec is HTTP/2")
	assert.Nil(t, h2.GetInitialStreamWindowSize(), "Envoy's default stream window")
	assert.Nil(t, h2.GetInitialConnectionWindowSize(), "Envoy's default connection window")
	assert.Nil(t, opts.GetExplicitHttpConfig().GetHttpProtocolOptions())
}
