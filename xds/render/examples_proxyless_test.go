package render

import (
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/build"
)

// TestProxylessExampleRenders: every dataplane of examples/proxyless is proxyless and renders,
// as served, a complete and consistent configuration without diagnostics and without SDS
// secrets (gRPC reads its certificates from files): the greeter's server listener, the
// clients' API listeners named as the targets the README gives.
func TestProxylessExampleRenders(t *testing.T) {
	m, err := Load([]string{"../../examples/proxyless"})
	require.NoError(t, err)
	ca, err := newPreviewCA(m)
	require.NoError(t, err)
	network := build.PreviewNetwork(m)
	listeners := map[string]bool{}
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			require.True(t, dp.IsProxyless(), "%s/%s", mesh.Name, dp.Name)
			out, err := ca.served(m, mesh.Name, dp.Name, build.DefaultOptions(), network)
			require.NoError(t, err, "%s/%s", mesh.Name, dp.Name)
			assert.Empty(t, out.Proxy.Diagnostics, "%s/%s", mesh.Name, dp.Name)
			require.NoError(t, out.Snapshot.Consistent(), "%s/%s", mesh.Name, dp.Name)
			assert.Empty(t, out.Snapshot.GetResources(resourcev3.SecretType), "%s/%s: no SDS", mesh.Name, dp.Name)
			for name := range out.Snapshot.GetResources(resourcev3.ListenerType) {
				listeners[mesh.Name+"/"+dp.Name+" "+name] = true
			}
		}
	}
	for _, want := range []string{"alpha/greeter-1 inbound:127.0.0.1:50051", "alpha/frontend-1 greeter.mesh:8080", "beta/reports-1 greeter.alpha.mesh:8080"} {
		assert.True(t, listeners[want], "%s in %v", want, listeners)
	}
}
