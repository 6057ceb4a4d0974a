package render_test

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

// With an identity from the CA, a gateway in an mTLS mesh receives its SVID and the mesh's
// trust bundle as the SDS secrets its clusters reference, in the same snapshot.
func TestRenderWithIdentity(t *testing.T) {
	m, _ := loadCase(t, goldenDir+"/weighted-backends")
	require.True(t, m.Mesh("default").MTLSEnabled(), "case must use an mTLS mesh")
	bundle, certPEM := selfSigned(t, "ecdsa", "gateway")
	out, err := render.Render(build.Request{
		Model: m, Mesh: "default", Name: "gateway-default", Options: build.DefaultOptions(),
		Identity: &build.Identity{CertificateChain: certPEM, PrivateKey: string(bundle[:len(bundle)-len(certPEM)]), TrustBundle: certPEM},
	})
	require.NoError(t, err)
	require.NoError(t, out.Snapshot.Consistent())
	secrets := map[string]*tlsv3.Secret{}
	for _, s := range out.Resources.Secrets {
		secrets[s.Name] = s
	}
	require.Contains(t, secrets, "identity_cert:secret:default")
	require.Contains(t, secrets, "mesh_ca:secret:default")
	assert.Equal(t, certPEM, secrets["identity_cert:secret:default"].GetTlsCertificate().GetCertificateChain().GetInlineString())
	assert.Equal(t, certPEM, secrets["mesh_ca:secret:default"].GetValidationContext().GetTrustedCa().GetInlineString())
	for _, c := range out.Resources.Clusters {
		var ctx tlsv3.UpstreamTlsContext
		require.NoError(t, c.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx), c.Name)
		assert.Equal(t, "identity_cert:secret:default", ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()[0].GetName())
		assert.Equal(t, "mesh_ca:secret:default",
			ctx.GetCommonTlsContext().GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName())
	}

	// Offline (no CA), the same clusters reference secrets the snapshot does not carry.
	offline, err := render.Dataplane(m, "default", "gateway-default", build.DefaultOptions())
	require.NoError(t, err)
	assert.Empty(t, offline.Resources.Secrets)
}
