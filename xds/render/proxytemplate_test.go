package render_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/modify"
	"github.com/meshgate/meshgate/xds/render"
)

// TestGoldenOutputPassesModifyChecks holds every golden configuration to the checks a
// ProxyTemplate modification must pass: if meshgate's own output failed them, modifications
// would be blamed for (or hide) meshgate's problems.
func TestGoldenOutputPassesModifyChecks(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.yaml"))
	require.NoError(t, err)
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := readCase(t, dir)
			m, _ := loadCase(t, dir)
			mesh, name, err := render.ParseDataplane(c.Dataplane)
			require.NoError(t, err)
			var out *render.Output
			if c.CA {
				req, _ := caRequest(t, m, mesh, name)
				out, err = render.Render(req)
			} else {
				out, err = render.Dataplane(m, mesh, name, build.DefaultOptions())
			}
			require.NoError(t, err)
			var problems []string
			for _, p := range modify.Check(out.Resources) {
				// http-39: Kuma keeps a route to the unresolved backend without a cluster.
				if !strings.Contains(p, `cluster "kuma.io/unresolved-backend"`) {
					problems = append(problems, p)
				}
			}
			assert.Empty(t, problems)
		})
	}
}

// withoutProxyTemplates loads a golden case's input leaving its ProxyTemplates out.
func withoutProxyTemplates(t *testing.T, dir string) *model.Model {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	objs, errs := api.Decode(filepath.Join(dir, "input.yaml"), raw)
	require.Empty(t, errs)
	objs = slices.DeleteFunc(objs, func(o api.Object) bool { return o.GetMeta().Kind == api.KindProxyTemplate })
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)
	return m
}

func document(t *testing.T, out *render.Output) string {
	t.Helper()
	doc, err := render.NewDocument(out.Resources)
	require.NoError(t, err)
	b, err := render.Marshal(doc, "yaml")
	require.NoError(t, err)
	return string(b)
}

// TestProxyTemplateRejectedChangesNothing: when every modification is rejected, the dataplane
// gets exactly what meshgate generates without the template, and each rejection is a diagnostic.
func TestProxyTemplateRejectedChangesNothing(t *testing.T) {
	dir := filepath.Join(goldenDir, "proxytemplate-rejected")
	m, _ := loadCase(t, dir)
	with, err := render.Dataplane(m, "default", "gateway-default", build.DefaultOptions())
	require.NoError(t, err)
	without, err := render.Dataplane(withoutProxyTemplates(t, dir), "default", "gateway-default", build.DefaultOptions())
	require.NoError(t, err)
	assert.Equal(t, document(t, without), document(t, with))
	assert.Empty(t, without.Proxy.Diagnostics)
	require.Len(t, with.Proxy.Diagnostics, 5)
	for _, d := range with.Proxy.Diagnostics {
		assert.Equal(t, "ProxyTemplate default/broken", d.Resource)
		assert.True(t, strings.HasPrefix(d.Field, "conf.modifications["), d.Field)
	}
	assert.Equal(t, without.Snapshot.GetVersion(resource.ClusterType), with.Snapshot.GetVersion(resource.ClusterType))
}

// TestProxyTemplateGoldensDifferFromDefault guards the other proxytemplate goldens against a
// template that silently stopped applying.
func TestProxyTemplateGoldensDifferFromDefault(t *testing.T) {
	for _, c := range []string{"proxytemplate-cluster-patch", "proxytemplate-http-filter", "proxytemplate-listener-and-vh"} {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join(goldenDir, c)
			m, _ := loadCase(t, dir)
			with, err := render.Dataplane(m, "default", "gateway-default", build.DefaultOptions())
			require.NoError(t, err)
			without, err := render.Dataplane(withoutProxyTemplates(t, dir), "default", "gateway-default", build.DefaultOptions())
			require.NoError(t, err)
			assert.NotEqual(t, document(t, without), document(t, with))
			assert.Empty(t, with.Proxy.Diagnostics)
		})
	}
}

const sidecarWithTemplates = `
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: web
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, servicePort: 80, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
---
type: Dataplane
mesh: default
name: backend
networking:
  address: 10.0.0.2
  inbound: [{port: 8080, servicePort: 80, tags: {kuma.io/service: backend, kuma.io/protocol: http}}]
---
type: ProxyTemplate
mesh: default
name: web-only
selectors: [{match: {kuma.io/service: web}}]
conf:
  imports: [default-proxy]
  modifications:
  - cluster:
      operation: patch
      match: {origin: inbound}
      value: "connect_timeout: 3s"
  - cluster:
      operation: patch
      match: {name: nope}
      value: "connect_timeout: 3s"
`

// TestRenderAppliesTheSelectedProxyTemplate: the template applies to the dataplane it selects,
// its problems become diagnostics that validate reports, and other dataplanes are untouched.
func TestRenderAppliesTheSelectedProxyTemplate(t *testing.T) {
	objs, errs := api.Decode("input.yaml", []byte(sidecarWithTemplates))
	require.Empty(t, errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)

	web, err := render.Dataplane(m, "default", "web", build.DefaultOptions())
	require.NoError(t, err)
	assert.Contains(t, document(t, web), "connectTimeout: 3s")
	require.Len(t, web.Proxy.Diagnostics, 1)
	assert.Equal(t, api.FieldError{
		File:     "input.yaml",
		Line:     32,
		Resource: "ProxyTemplate default/web-only",
		Field:    "conf.modifications[1].cluster.match",
		Message:  `matches no cluster (name "nope"); nothing changed`,
	}, web.Proxy.Diagnostics[0])

	backend, err := render.Dataplane(m, "default", "backend", build.DefaultOptions())
	require.NoError(t, err)
	assert.NotContains(t, document(t, backend), "connectTimeout: 3s")
	assert.Empty(t, backend.Proxy.Diagnostics)

	diags, err := render.CheckAll(m, build.DefaultOptions())
	require.NoError(t, err)
	assert.Contains(t, diags, `input.yaml:32: ProxyTemplate default/web-only: conf.modifications[1].cluster.match: matches no cluster (name "nope"); nothing changed`)
}
