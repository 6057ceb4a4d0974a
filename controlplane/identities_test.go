package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/xds/render"
)

func openTestStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newTestIdentities is the identity service as New wires it, over st.
func newTestIdentities(t testing.TB, st store.Store) *identity.Service {
	t.Helper()
	ids, err := identity.New(identity.Config{Store: st, Rotation: identity.DefaultRotationOptions(), Log: quietLogger(), Now: time.Now})
	require.NoError(t, err)
	return ids
}

// The certificate the control plane issues a dataplane states exactly the URIs `explain
// --source` assumes it presents (render.PeerOf), in the same order (Envoy's SPIFFE validator
// reads the first): services from several inbounds and the gateway, repeated and unsorted,
// and multi-valued tags.
func TestIssuedIdentityIsWhatExplainAssumes(t *testing.T) {
	m := decodeTestModel(t, `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: default
name: web
networking:
  address: 127.0.0.1
  inbound:
  - {port: 8080, tags: {kuma.io/service: web, version: v2, zone: b}}
  - {port: 8081, tags: {kuma.io/service: admin, version: v1, zone: b}}
  - {port: 8082, tags: {kuma.io/service: web, version: v1}}
---
type: Dataplane
mesh: default
name: gw
networking:
  address: 127.0.0.2
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge, team: a}}
`)
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()))
	ctx := context.Background()
	ids.SetModel(m)
	mesh := m.Mesh("default")
	for _, name := range []string{"web", "gw"} {
		id, _, err := dataplaneIdentity(ctx, ids, mesh, mesh.Dataplane(name))
		require.NoError(t, err)
		require.NotNil(t, id)
		chain, err := certs.ParseCertificates([]byte(id.CertificateChain))
		require.NoError(t, err)
		var issued []string
		for _, u := range chain[0].URIs {
			issued = append(issued, u.String())
		}
		peer, err := render.PeerOf(m, "default", name)
		require.NoError(t, err)
		assert.Equal(t, issued, peer.URIs, name)
		assert.Greater(t, len(issued), 2, "%s: services and tags are both stated", name)
	}
}
