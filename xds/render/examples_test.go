package render

import (
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/build"
)

// TestExamplesRenderEveryDataplane renders every dataplane of the shipped examples as the
// control plane serves it (with CA secrets), and requires a complete, consistent
// configuration without diagnostics: a gateway and its services, a delegated gateway and its
// services, and two meshes joined by a cross-mesh gateway.
func TestExamplesRenderEveryDataplane(t *testing.T) {
	for _, dir := range []string{"../../examples/gateway", "../../examples/delegated", "../../examples/crossmesh", "../../examples/crossmesh-tcp"} {
		t.Run(dir, func(t *testing.T) {
			m, err := Load([]string{dir})
			require.NoError(t, err)
			ca, err := newPreviewCA(m)
			require.NoError(t, err)
			network := build.PreviewNetwork(m)
			n := 0
			for _, mesh := range m.Meshes() {
				for _, dp := range mesh.Dataplanes {
					n++
					out, err := ca.served(m, mesh.Name, dp.Name, build.DefaultOptions(), network)
					require.NoError(t, err, "%s/%s", mesh.Name, dp.Name)
					assert.Empty(t, out.Proxy.Diagnostics, "%s/%s", mesh.Name, dp.Name)
					require.NoError(t, out.Snapshot.Consistent(), "%s/%s", mesh.Name, dp.Name)
					assert.NotEmpty(t, out.Snapshot.GetResources(resourcev3.ListenerType), "%s/%s has listeners", mesh.Name, dp.Name)
					assert.NotEmpty(t, out.Snapshot.GetResources(resourcev3.ClusterType), "%s/%s has clusters", mesh.Name, dp.Name)
					if mesh.MTLSEnabled() {
						assert.Contains(t, out.Snapshot.GetResources(resourcev3.SecretType), "identity_cert:secret:"+mesh.Name)
					}
				}
			}
			assert.GreaterOrEqual(t, n, 3)
		})
	}
}
