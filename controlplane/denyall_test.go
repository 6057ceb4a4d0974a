package controlplane

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

func denyAllModel(t *testing.T, yaml string) *model.Model {
	t.Helper()
	objs, errs := api.Decode("in.yaml", []byte(yaml))
	require.Empty(t, errs)
	m, errs := model.Build(objs)
	require.Empty(t, errs)
	return m
}

// The control plane warns, naming the mesh, when an mTLS mesh has no TrafficPermission and so
// denies all traffic: once while that lasts, and again if it comes back.
func TestWarnDenyAll(t *testing.T) {
	const meshes = "type: Mesh\nname: shop\nmtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}\n---\ntype: Mesh\nname: plain\n"
	const permission = "---\ntype: TrafficPermission\nmesh: shop\nname: allow-all-shop\nsources: [{match: {kuma.io/service: '*'}}]\ndestinations: [{match: {kuma.io/service: '*'}}]\n"
	var buf bytes.Buffer
	r := &reconciler{log: slog.New(slog.NewTextHandler(&buf, nil))}
	warnings := func() []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
		buf.Reset()
		return out
	}

	r.warnDenyAll(denyAllModel(t, meshes))
	got := warnings()
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "level=WARN")
	assert.Contains(t, got[0], `mesh=shop`)
	assert.Contains(t, got[0], "every inbound denies all traffic")
	assert.Contains(t, got[0], "meshgate mesh allow-all --mesh shop")

	r.warnDenyAll(denyAllModel(t, meshes))
	assert.Empty(t, warnings(), "said once while it lasts")

	r.warnDenyAll(denyAllModel(t, meshes+permission))
	assert.Empty(t, warnings(), "a permission ends it")

	r.warnDenyAll(denyAllModel(t, meshes))
	assert.Len(t, warnings(), 1, "said again when it comes back")
}
