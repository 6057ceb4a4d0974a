package render_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

// A cross-mesh listener in a mesh without mTLS is both a cross-mesh conflict and a diagnostic
// of the gateway's proxy; both name the line the listener was written on.
const plainCrossMesh = `type: Mesh
name: plain
---
type: MeshGateway
mesh: plain
name: edge
selectors: [{match: {kuma.io/service: edge}}]
conf:
  listeners:
  - port: 80
    protocol: HTTP
  - port: 8080
    protocol: HTTP
    crossMesh: true
---
type: Dataplane
mesh: plain
name: edge-1
networking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}}
`

// Problems are located by whoever holds the resource (api.Meta.Problem), not found again by
// display name afterwards: the diagnostics of a rendered proxy and the cross-mesh errors carry
// the file and line themselves.
func TestProblemsAreLocatedWhereMade(t *testing.T) {
	objs, errs := api.Decode("gw.yaml", []byte(plainCrossMesh))
	require.Empty(t, errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)

	const field = "conf.listeners[1].crossMesh"
	xerrs := render.CrossMeshErrors(m)
	require.Len(t, xerrs, 1)
	assert.Equal(t, api.FieldError{File: "gw.yaml", Line: 14, Resource: "MeshGateway plain/edge", Field: field,
		Message: `mesh "plain" must have mTLS enabled to expose cross-mesh listeners`}, xerrs[0])

	out, err := render.Dataplane(m, "plain", "edge-1", build.DefaultOptions())
	require.NoError(t, err)
	require.NotEmpty(t, out.Proxy.Diagnostics)
	for _, d := range out.Proxy.Diagnostics {
		assert.Equal(t, "gw.yaml", d.File, "%v", d)
		assert.Positive(t, d.Line, "%v", d)
	}

	warnings, err := render.CheckAll(m, build.DefaultOptions())
	require.NoError(t, err)
	assert.Equal(t, []string{`gw.yaml:14: MeshGateway plain/edge: ` + field + `: ` +
		`mTLS must be enabled in mesh "plain" for cross-mesh listeners; listener edge:HTTP:8080 skipped`}, warnings)
}
