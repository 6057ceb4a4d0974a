package translate

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestClusterExternalTLS(t *testing.T) {
	cases := []struct {
		name  string
		in    ir.UpstreamTLS
		check func(t *testing.T, common *tlsv3.CommonTlsContext)
	}{
		{"CA, SAN and client certificate", ir.UpstreamTLS{
			SNI: "api.example.com", CA: "CA PEM", VerifySAN: "api.example.com", ALPN: []string{"h2", "http/1.1"},
			ClientCertificate: "CERT PEM", ClientKey: "KEY PEM",
		}, func(t *testing.T, common *tlsv3.CommonTlsContext) {
			assert.Equal(t, []string{"h2", "http/1.1"}, common.GetAlpnProtocols())
			vc := common.GetValidationContext()
			require.NotNil(t, vc)
			assert.Equal(t, "CA PEM", vc.GetTrustedCa().GetInlineString())
			sans := vc.GetMatchTypedSubjectAltNames()
			require.Len(t, sans, 1)
			assert.Equal(t, tlsv3.SubjectAltNameMatcher_DNS, sans[0].GetSanType())
			assert.Equal(t, "api.example.com", sans[0].GetMatcher().GetExact())
			require.Len(t, common.GetTlsCertificates(), 1)
			assert.Equal(t, "CERT PEM", common.GetTlsCertificates()[0].GetCertificateChain().GetInlineString())
			assert.Equal(t, "KEY PEM", common.GetTlsCertificates()[0].GetPrivateKey().GetInlineString())
			assert.Empty(t, common.GetTlsCertificateSdsSecretConfigs())
		}},
		{"CA only", ir.UpstreamTLS{SNI: "api.example.com", CA: "CA PEM"}, func(t *testing.T, common *tlsv3.CommonTlsContext) {
			assert.Equal(t, "CA PEM", common.GetValidationContext().GetTrustedCa().GetInlineString())
			assert.Empty(t, common.GetValidationContext().GetMatchTypedSubjectAltNames())
			assert.Empty(t, common.GetTlsCertificates())
		}},
		{"insecure", ir.UpstreamTLS{SNI: "api.example.com", AllowInsecure: true}, func(t *testing.T, common *tlsv3.CommonTlsContext) {
			assert.Nil(t, common.GetValidationContextType(), "no validation context at all")
			assert.Empty(t, common.GetTlsCertificates())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tlsCfg := c.in
			out := translateCluster(t, ir.Cluster{Name: "ext", Type: ir.ClusterStrictDNS, Service: "ext", Protocol: ir.ClusterTCP,
				Endpoints: []ir.Endpoint{{Address: "api.example.com", Port: 443}}, TLS: &tlsCfg})
			ts := out.GetTransportSocket()
			require.NotNil(t, ts)
			assert.Equal(t, wellknown.TransportSocketTls, ts.GetName())
			ctx := unpack(t, ts.GetTypedConfig(), &tlsv3.UpstreamTlsContext{})
			requireValid(t, ctx)
			assert.Equal(t, "api.example.com", ctx.GetSni())
			c.check(t, ctx.GetCommonTlsContext())
		})
	}
}
