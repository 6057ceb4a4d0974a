package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func tcpChain(clusters ...ir.WeightedCluster) ir.FilterChain {
	return ir.FilterChain{Name: "fc", TCP: &ir.TCPProxy{StatPrefix: "gw", Clusters: clusters}}
}

func TestFilterChainMatch(t *testing.T) {
	cases := []struct {
		name      string
		sni       []string
		tls       bool
		wantMatch bool
		wantProto string
	}{
		{"plain text matches everything", nil, false, false, ""},
		{"tls any sni", nil, true, true, "tls"},
		{"tls with sni", []string{"a.example.com", "*.example.com"}, true, true, "tls"},
		{"sni only", []string{"a.example.com"}, false, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fc := tcpChain(ir.WeightedCluster{Name: "db", Weight: 1})
			fc.ServerNames, fc.TransportProtocolTLS = c.sni, c.tls
			out, rc, err := filterChain(fc, nil)
			require.NoError(t, err)
			requireValid(t, out)
			assert.Nil(t, rc)
			assert.Equal(t, "fc", out.GetName())
			if !c.wantMatch {
				assert.Nil(t, out.GetFilterChainMatch())
				return
			}
			assert.Equal(t, c.sni, out.GetFilterChainMatch().GetServerNames())
			assert.Equal(t, c.wantProto, out.GetFilterChainMatch().GetTransportProtocol())
		})
	}
}

func downstreamContext(t *testing.T, ts *corev3.TransportSocket) *tlsv3.DownstreamTlsContext {
	t.Helper()
	require.NotNil(t, ts)
	assert.Equal(t, wellknown.TransportSocketTls, ts.GetName())
	return unpack(t, ts.GetTypedConfig(), &tlsv3.DownstreamTlsContext{})
}

func TestFilterChainDownstreamTLS(t *testing.T) {
	cases := []struct {
		name       string
		minVersion string
		want       tlsv3.TlsParameters_TlsProtocol
	}{
		{"default is TLS 1.2", "", tlsv3.TlsParameters_TLSv1_2},
		{"explicit TLS 1.3", "TLSv1_3", tlsv3.TlsParameters_TLSv1_3},
		{"explicit TLS 1.2", "TLSv1_2", tlsv3.TlsParameters_TLSv1_2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fc := tcpChain(ir.WeightedCluster{Name: "db", Weight: 1})
			fc.TLS = &ir.DownstreamTLS{CertificateSecrets: []string{"cert.rsa:secret:b", "cert.ecdsa:secret:a"}, ALPN: []string{"h2", "http/1.1"}, MinVersion: c.minVersion}
			out, _, err := filterChain(fc, nil)
			require.NoError(t, err)
			requireValid(t, out)

			ctx := downstreamContext(t, out.GetTransportSocket())
			requireValid(t, ctx)
			assert.False(t, ctx.GetRequireClientCertificate().GetValue())
			require.NotNil(t, ctx.GetRequireClientCertificate(), "explicitly false, not defaulted")
			common := ctx.GetCommonTlsContext()
			assert.Equal(t, []string{"h2", "http/1.1"}, common.GetAlpnProtocols())
			assert.Equal(t, c.want, common.GetTlsParams().GetTlsMinimumProtocolVersion())
			sds := common.GetTlsCertificateSdsSecretConfigs()
			require.Len(t, sds, 2)
			assert.Equal(t, "cert.rsa:secret:b", sds[0].GetName(), "certificates keep declared order")
			assert.Equal(t, "cert.ecdsa:secret:a", sds[1].GetName())
			for _, s := range sds {
				assert.Equal(t, corev3.ApiVersion_V3, s.GetSdsConfig().GetResourceApiVersion())
				assert.NotNil(t, s.GetSdsConfig().GetAds())
			}
		})
	}
}

func TestFilterChainPassthroughHasNoTransportSocket(t *testing.T) {
	fc := tcpChain(ir.WeightedCluster{Name: "db", Weight: 1})
	fc.TransportProtocolTLS = true
	out, _, err := filterChain(fc, nil)
	require.NoError(t, err)
	assert.Nil(t, out.GetTransportSocket())
}

func TestTCPProxy(t *testing.T) {
	t.Run("one cluster routes directly", func(t *testing.T) {
		out, _, err := filterChain(tcpChain(ir.WeightedCluster{Name: "db", Weight: 7}), nil)
		require.NoError(t, err)
		requireValid(t, out)
		require.Len(t, out.GetFilters(), 1)
		tp := unpack(t, out.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
		assert.Equal(t, "gw", tp.GetStatPrefix())
		assert.Equal(t, "db", tp.GetCluster())
		assert.Nil(t, tp.GetWeightedClusters())
	})
	t.Run("several clusters split by weight in IR order", func(t *testing.T) {
		out, _, err := filterChain(tcpChain(ir.WeightedCluster{Name: "db", Weight: 1}, ir.WeightedCluster{Name: "api", Weight: 3}), nil)
		require.NoError(t, err)
		requireValid(t, out)
		tp := unpack(t, out.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
		assert.Empty(t, tp.GetCluster())
		wc := tp.GetWeightedClusters().GetClusters()
		require.Len(t, wc, 2)
		assert.Equal(t, "db", wc[0].GetName())
		assert.Equal(t, uint32(1), wc[0].GetWeight())
		assert.Equal(t, "api", wc[1].GetName())
		assert.Equal(t, uint32(3), wc[1].GetWeight())
	})
}
