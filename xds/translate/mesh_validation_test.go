package translate

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestDownstreamMeshBundleValidation(t *testing.T) {
	fc := tcpChain(ir.WeightedCluster{Name: "db", Weight: 1})
	fc.TLS = &ir.DownstreamTLS{
		IdentitySecret: "identity_cert:secret:default", RequireClientCert: true,
		ValidationSecret: "mesh_ca:secret:default", SANPrefix: "spiffe://default/",
	}
	out, _, err := filterChain(fc, nil)
	require.NoError(t, err)
	requireValid(t, out)

	ctx := downstreamContext(t, out.GetTransportSocket())
	requireValid(t, ctx)
	assert.True(t, ctx.GetRequireClientCertificate().GetValue())
	common := ctx.GetCommonTlsContext()
	require.Len(t, common.GetTlsCertificateSdsSecretConfigs(), 1)
	assert.Equal(t, "identity_cert:secret:default", common.GetTlsCertificateSdsSecretConfigs()[0].GetName())
	assert.Nil(t, common.GetValidationContext(), "no SPIFFE validator on this path")

	combined := common.GetCombinedValidationContext()
	require.NotNil(t, combined)
	sds := combined.GetValidationContextSdsSecretConfig()
	assert.Equal(t, "mesh_ca:secret:default", sds.GetName())
	assert.NotNil(t, sds.GetSdsConfig().GetAds())
	sans := combined.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()
	require.Len(t, sans, 1)
	assert.Equal(t, tlsv3.SubjectAltNameMatcher_URI, sans[0].GetSanType())
	assert.Equal(t, "spiffe://default/", sans[0].GetMatcher().GetPrefix())
	assert.Nil(t, combined.GetDefaultValidationContext().GetTrustedCa(), "the bundle comes from the secret")
}
