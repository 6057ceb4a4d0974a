package translate

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

func translateCluster(t *testing.T, c ir.Cluster) *clusterv3.Cluster {
	t.Helper()
	out, err := cluster(c)
	require.NoError(t, err)
	requireValid(t, out)
	return out
}

func TestClusterEDS(t *testing.T) {
	out := translateCluster(t, ir.Cluster{
		Name: "api{version=v1}", Service: "api", Protocol: ir.ClusterTCP,
		Destination: map[string]string{"kuma.io/service": "api", "version": "v1"},
	})
	assert.Equal(t, "api{version=v1}", out.GetName())
	assert.Equal(t, clusterv3.Cluster_EDS, out.GetType())
	eds := out.GetEdsClusterConfig()
	assert.Equal(t, "api{version=v1}", eds.GetServiceName())
	assert.Equal(t, corev3.ApiVersion_V3, eds.GetEdsConfig().GetResourceApiVersion())
	assert.NotNil(t, eds.GetEdsConfig().GetAds())
	assert.Equal(t, 5*time.Second, out.GetConnectTimeout().AsDuration())
	assert.Equal(t, clusterv3.Cluster_ROUND_ROBIN, out.GetLbPolicy())
	assert.Equal(t, uint32(32768), out.GetPerConnectionBufferLimitBytes().GetValue())
	assert.Nil(t, out.GetTransportSocket())

	md := out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].AsMap()
	assert.Equal(t, map[string]any{
		"service":     "api",
		"destination": map[string]any{"kuma.io/service": "api", "version": "v1"},
	}, md)
}

func TestClusterProtocol(t *testing.T) {
	cases := []struct {
		protocol ir.ClusterProtocol
		check    func(t *testing.T, opts *upstreamhttpv3.HttpProtocolOptions)
	}{
		{ir.ClusterTCP, func(t *testing.T, opts *upstreamhttpv3.HttpProtocolOptions) { assert.Nil(t, opts) }},
		{ir.ClusterHTTP, func(t *testing.T, opts *upstreamhttpv3.HttpProtocolOptions) {
			require.NotNil(t, opts)
			assert.NotNil(t, opts.GetExplicitHttpConfig().GetHttpProtocolOptions())
			assert.Nil(t, opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions())
		}},
		{ir.ClusterHTTP2, func(t *testing.T, opts *upstreamhttpv3.HttpProtocolOptions) {
			require.NotNil(t, opts)
			h2 := opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions()
			require.NotNil(t, h2)
			assert.Equal(t, uint32(65536), h2.GetInitialStreamWindowSize().GetValue())
			assert.Equal(t, uint32(1048576), h2.GetInitialConnectionWindowSize().GetValue())
		}},
	}
	for _, c := range cases {
		t.Run(string(c.protocol), func(t *testing.T) {
			out := translateCluster(t, ir.Cluster{Name: "api", Service: "api", Protocol: c.protocol})
			raw, ok := out.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
			if !ok {
				assert.Empty(t, out.GetTypedExtensionProtocolOptions())
				c.check(t, nil)
				return
			}
			opts := unpack(t, raw, &upstreamhttpv3.HttpProtocolOptions{})
			requireValid(t, opts)
			c.check(t, opts)
		})
	}
}

func TestClusterUpstreamMTLS(t *testing.T) {
	c := fixture().Clusters[2]
	out := translateCluster(t, c)

	ts := out.GetTransportSocket()
	require.NotNil(t, ts)
	assert.Equal(t, wellknown.TransportSocketTls, ts.GetName())
	ctx := unpack(t, ts.GetTypedConfig(), &tlsv3.UpstreamTlsContext{})
	requireValid(t, ctx)
	assert.Equal(t, "api{mesh=default}", ctx.GetSni())

	common := ctx.GetCommonTlsContext()
	assert.Equal(t, []string{"kuma"}, common.GetAlpnProtocols())
	require.Len(t, common.GetTlsCertificateSdsSecretConfigs(), 1)
	id := common.GetTlsCertificateSdsSecretConfigs()[0]
	assert.Equal(t, "identity_cert:secret:default", id.GetName())
	assert.NotNil(t, id.GetSdsConfig().GetAds())

	combined := common.GetCombinedValidationContext()
	require.NotNil(t, combined)
	assert.Equal(t, "mesh_ca:secret:default", combined.GetValidationContextSdsSecretConfig().GetName())
	assert.NotNil(t, combined.GetValidationContextSdsSecretConfig().GetSdsConfig().GetAds())
	sans := combined.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()
	require.Len(t, sans, 1)
	assert.Equal(t, tlsv3.SubjectAltNameMatcher_URI, sans[0].GetSanType())
	assert.Equal(t, "spiffe://default/api", sans[0].GetMatcher().GetExact())
}
