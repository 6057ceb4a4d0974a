package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func decode(t *testing.T, yaml string) []api.Object {
	t.Helper()
	objs, errs := api.Decode("in.yaml", []byte(yaml))
	require.Empty(t, errs)
	return objs
}

func TestBuildIndexesAndSorts(t *testing.T) {
	m, errs := Build(decode(t, `
type: Mesh
name: other
---
type: MeshGateway
mesh: other
name: b
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
---
type: MeshGateway
mesh: other
name: a
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
---
type: Dataplane
name: dp
networking: {address: 10.0.0.1, inbound: [{port: 80, tags: {kuma.io/service: web}}]}
`))
	require.Empty(t, errs)
	var names []string
	for _, mesh := range m.Meshes() {
		names = append(names, mesh.Name)
	}
	// The default mesh exists without being declared, as in Kuma.
	assert.Equal(t, []string{"default", "other"}, names)
	require.Len(t, m.Mesh("other").Gateways, 2)
	assert.Equal(t, "a", m.Mesh("other").Gateways[0].Name)
	assert.NotNil(t, m.Mesh("default").Dataplane("dp"))
	assert.Nil(t, m.Mesh("default").Dataplane("nope"))
	assert.Nil(t, m.Mesh("missing"))
	assert.False(t, m.Mesh("default").MTLSEnabled())
}

func TestBuildReportsCrossResourceErrors(t *testing.T) {
	objs := decode(t, `
type: Dataplane
mesh: nowhere
name: dp
networking: {address: 10.0.0.1, inbound: [{port: 80, tags: {kuma.io/service: web}}]}
`)
	dup := decode(t, `
type: Dataplane
name: twice
networking: {address: 10.0.0.1, inbound: [{port: 80, tags: {kuma.io/service: web}}]}
`)
	dup2 := decode(t, `
type: Dataplane
name: twice
networking: {address: 10.0.0.2, inbound: [{port: 80, tags: {kuma.io/service: web}}]}
`)
	dup2[0].GetMeta().Source.File = "other.yaml"
	m, errs := Build(append(append(objs, dup...), dup2...))
	require.Len(t, errs, 2)
	assert.Equal(t, `in.yaml:2: Dataplane nowhere/dp: mesh: mesh "nowhere" does not exist`, errs[0].Error())
	assert.Equal(t, `other.yaml:2: Dataplane default/twice: name: already defined at in.yaml:2`, errs[1].Error())
	// The first definition still builds; the rest of the configuration is not lost.
	require.NotNil(t, m.Mesh("default").Dataplane("twice"))
	assert.Equal(t, "10.0.0.1", m.Mesh("default").Dataplane("twice").Spec.Networking.Address)
}

func TestSelectors(t *testing.T) {
	tags := map[string]string{"kuma.io/service": "gw", "port": "http"}
	assert.True(t, SelectorMatches(map[string]string{"kuma.io/service": "gw"}, tags))
	assert.True(t, SelectorMatches(map[string]string{"kuma.io/service": "*"}, tags))
	assert.True(t, SelectorMatches(nil, tags))
	assert.False(t, SelectorMatches(map[string]string{"kuma.io/service": "api"}, tags))
	assert.False(t, SelectorMatches(map[string]string{"zone": "*"}, tags))

	exact2 := SelectorRank(map[string]string{"a": "1", "b": "2"})
	mixed2 := SelectorRank(map[string]string{"a": "1", "b": "*"})
	exact1 := SelectorRank(map[string]string{"a": "1"})
	assert.Positive(t, exact2.Compare(mixed2), "more exact values win at equal size")
	assert.Positive(t, mixed2.Compare(exact1), "more tags win first")
	assert.Zero(t, exact1.Compare(SelectorRank(map[string]string{"b": "2"})))

	assert.Equal(t, map[string]string{"a": "2", "b": "1"}, MergeTags(map[string]string{"a": "1", "b": "1"}, map[string]string{"a": "2"}))
}

func TestBuildRejectsAmbiguousNodeIDs(t *testing.T) {
	_, errs := Build(decode(t, `
type: Mesh
name: a.b
---
type: Mesh
name: a
---
type: Dataplane
mesh: a
name: b.c
networking: {address: 10.0.0.1, inbound: [{port: 80, tags: {kuma.io/service: web}}]}
---
type: Dataplane
mesh: a.b
name: c
networking: {address: 10.0.0.2, inbound: [{port: 80, tags: {kuma.io/service: web}}]}
`))
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), `node id "a.b.c" is already used by Dataplane a/b.c`)
}

func TestGatewayBinding(t *testing.T) {
	m, errs := Build(decode(t, `
type: MeshGateway
name: a-wide
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
---
type: MeshGateway
name: z-narrow
selectors: [{match: {kuma.io/service: gw, zone: east}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
---
type: MeshGateway
name: b-wide-twin
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
---
type: Dataplane
name: east-1
networking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: gw, zone: east}}}
---
type: Dataplane
name: west-1
networking: {address: 10.0.0.2, gateway: {type: BUILTIN, tags: {kuma.io/service: gw, zone: west}}}
`))
	require.Empty(t, errs)
	mesh := m.Mesh("default")
	// The most specific selector wins, whatever the names.
	assert.Equal(t, "z-narrow", mesh.Gateway(map[string]string{"kuma.io/service": "gw", "zone": "east"}).Name)
	// Equal rank, no creation times: the name that sorts first.
	assert.Equal(t, "a-wide", mesh.Gateway(map[string]string{"kuma.io/service": "gw", "zone": "west"}).Name)
	assert.Nil(t, mesh.Gateway(map[string]string{"kuma.io/service": "other"}))
	var names []string
	for _, dp := range mesh.GatewayDataplanes(mesh.Gateway(map[string]string{"kuma.io/service": "gw", "zone": "east"})) {
		names = append(names, dp.Name)
	}
	assert.Equal(t, []string{"east-1"}, names)
}
