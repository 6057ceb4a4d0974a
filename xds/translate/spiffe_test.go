package translate

import (
	"testing"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func crossMeshChain() ir.FilterChain {
	fc := fixture().Listeners[1].FilterChains[0] // a fresh proxy per call
	fc.TransportProtocolTLS = true
	fc.ApplicationProtocols = []string{"kuma"}
	fc.TLS = &ir.DownstreamTLS{
		IdentitySecret: "identity_cert:secret:default", ALPN: []string{"kuma"}, RequireClientCert: true,
		ValidationSecret: "mesh_ca:secret:all",
	}
	fc.HTTP.ForwardClientCert = true
	return fc
}

func TestCrossMeshFilterChain(t *testing.T) {
	out, rc, err := filterChain(crossMeshChain(), nil)
	require.NoError(t, err)
	requireValid(t, out)
	require.NotNil(t, rc)

	m := out.GetFilterChainMatch()
	assert.Equal(t, "tls", m.GetTransportProtocol())
	assert.Equal(t, []string{"kuma"}, m.GetApplicationProtocols())
	assert.Empty(t, m.GetServerNames(), "mesh clients' SNI names the service, not the gateway")

	ctx := downstreamContext(t, out.GetTransportSocket())
	requireValid(t, ctx)
	assert.True(t, ctx.GetRequireClientCertificate().GetValue())
	common := ctx.GetCommonTlsContext()
	assert.Equal(t, []string{"kuma"}, common.GetAlpnProtocols())
	sds := common.GetTlsCertificateSdsSecretConfigs()
	require.Len(t, sds, 1)
	assert.Equal(t, "identity_cert:secret:default", sds[0].GetName())
	assert.NotNil(t, sds[0].GetSdsConfig().GetAds())

	sdsVC := common.GetValidationContextSdsSecretConfig()
	require.NotNil(t, sdsVC, "validation comes over SDS, so rotation does not touch the listener")
	assert.Equal(t, "mesh_ca:secret:all", sdsVC.GetName())

	// Map order must not leak into the output: "zeta" is declared first on purpose.
	sec, err := secret(ir.Secret{Name: "mesh_ca:secret:all", SPIFFETrustDomains: map[string]string{"zeta": "ZETA PEM", "default": "DEFAULT PEM"}})
	require.NoError(t, err)
	requireValid(t, sec)
	vc := sec.GetValidationContext()
	assert.Nil(t, vc.GetTrustedCa(), "no merged bundle next to the per-domain ones")
	assert.Equal(t, "envoy.tls.cert_validator.spiffe", vc.GetCustomValidatorConfig().GetName())
	cfg := unpack(t, vc.GetCustomValidatorConfig().GetTypedConfig(), &tlsv3.SPIFFECertValidatorConfig{})
	requireValid(t, cfg)
	require.Len(t, cfg.GetTrustDomains(), 2)
	assert.Equal(t, "default", cfg.GetTrustDomains()[0].GetName())
	assert.Equal(t, "DEFAULT PEM", cfg.GetTrustDomains()[0].GetTrustBundle().GetInlineString())
	assert.Equal(t, "zeta", cfg.GetTrustDomains()[1].GetName())
	assert.Equal(t, "ZETA PEM", cfg.GetTrustDomains()[1].GetTrustBundle().GetInlineString())

	hcm := unpack(t, out.GetFilters()[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{})
	assert.Equal(t, hcmv3.HttpConnectionManager_SANITIZE_SET, hcm.GetForwardClientCertDetails())
	assert.True(t, hcm.GetSetCurrentClientCertDetails().GetUri())
	assert.False(t, hcm.GetSetCurrentClientCertDetails().GetCert(), "the URI is all a backend needs")
}

// A plain edge chain neither forwards client certificate details nor passes them through:
// Envoy's default (SANITIZE) strips any x-forwarded-client-cert a client sends.
func TestHCMDoesNotForwardClientCertByDefault(t *testing.T) {
	out := translateHCM(t, *fixture().Listeners[1].FilterChains[0].HTTP)
	assert.Equal(t, hcmv3.HttpConnectionManager_SANITIZE, out.GetForwardClientCertDetails())
	assert.Nil(t, out.GetSetCurrentClientCertDetails())
}
