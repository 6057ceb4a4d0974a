package render_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/render"
)

// A proxyless client presents the identity endpoint's X509-SVID, whose only URI SAN is its
// primary SPIFFE ID; an Envoy of the same services would carry kuma:// tag URIs too.
func TestPeerOfProxyless(t *testing.T) {
	m, err := render.Load([]string{goldenDir + "/proxyless-crossmesh-client/input.yaml"})
	require.NoError(t, err)
	p, err := render.PeerOf(m, "shop", "checkout-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"spiffe://shop/checkout"}, p.URIs)
	envoy, err := render.PeerOf(m, "shop", "inventory-1")
	require.NoError(t, err)
	assert.Greater(t, len(envoy.URIs), 1, "an Envoy's leaf: %v", envoy.URIs)
}
