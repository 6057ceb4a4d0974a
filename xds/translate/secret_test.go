package translate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestSecret(t *testing.T) {
	out, err := secret(ir.Secret{Name: "cert.ecdsa:secret:a", CertificateChain: "CHAIN", PrivateKey: "KEY"})
	require.NoError(t, err)
	requireValid(t, out)
	assert.Equal(t, "cert.ecdsa:secret:a", out.GetName())
	assert.Equal(t, "CHAIN", out.GetTlsCertificate().GetCertificateChain().GetInlineString())
	assert.Equal(t, "KEY", out.GetTlsCertificate().GetPrivateKey().GetInlineString())
}

func TestTrustBundleSecret(t *testing.T) {
	out, err := secret(ir.Secret{Name: "mesh_ca:secret:default", TrustedCA: "BUNDLE"})
	require.NoError(t, err)
	requireValid(t, out)
	assert.Nil(t, out.GetTlsCertificate())
	assert.Equal(t, "BUNDLE", out.GetValidationContext().GetTrustedCa().GetInlineString())
}
