package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// meshgate adds no TrafficPermission: an mTLS mesh without one denies every caller (Kuma
// 2.x), whatever skipCreatingInitialPolicies says; a mesh without mTLS has no RBAC to deny with.
func TestNoDefaultPermission(t *testing.T) {
	m, errs := Build(decode(t, `
type: Mesh
name: secure
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Mesh
name: skipping
skipCreatingInitialPolicies: ['*']
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Mesh
name: allowed
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Mesh
name: plain
---
type: TrafficPermission
mesh: allowed
name: web-to-api
sources: [{match: {kuma.io/service: web}}]
destinations: [{match: {kuma.io/service: api}}]
`))
	require.Empty(t, errs)
	for name, denies := range map[string]bool{"secure": true, "skipping": true, "allowed": false, "plain": false, "default": false} {
		mesh := m.Mesh(name)
		require.NotNil(t, mesh, name)
		assert.Equal(t, denies, mesh.DeniesAll(), name)
	}
	assert.Empty(t, m.Mesh("secure").Policies[api.KindTrafficPermission], "no invisible permission")
	require.Len(t, m.Mesh("allowed").Policies[api.KindTrafficPermission], 1)
}

// The allow-all permission an operator may create is Kuma's former default, and valid.
func TestAllowAllPermission(t *testing.T) {
	tp := AllowAllPermission("shop")
	assert.Equal(t, "allow-all-shop", tp.Name)
	assert.Equal(t, "shop", tp.Mesh)
	assert.Empty(t, tp.Validate())
	assert.Equal(t, []map[string]string{{api.ServiceTag: "*"}}, tp.SourceSelectors())
	assert.Equal(t, []map[string]string{{api.ServiceTag: "*"}}, tp.DestinationSelectors())
}
