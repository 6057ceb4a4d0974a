package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// FuzzBuild decodes arbitrary bytes and builds a model from whatever decoded: Build must never
// panic, always supply the default mesh, and account for every resource it was given: each one
// is in the model, or named by one of its errors (Build's contract: the offending resource is
// left out, the rest still builds). A resource that vanished without an error would be a
// configuration the user believes applied and the control plane ignores.
//
// `go test -run '^$' -fuzz '^FuzzBuild$' ./model/` explores further; under `go test` only the
// seeds run: every resource file of the repository's testdata and examples.
func FuzzBuild(f *testing.F) {
	for _, pattern := range []string{
		"../api/v1alpha1/testdata/*/*.yaml",
		"../xds/testdata/golden/*/input.yaml",
		"../examples/*/*.yaml",
	} {
		files, err := filepath.Glob(pattern)
		require.NoError(f, err)
		require.NotEmpty(f, files, pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Add([]byte("type: Mesh\nname: a\n---\ntype: Dataplane\nmesh: a\nname: b.c\nnetworking: {address: 10.0.0.1, inbound: [{port: 1, tags: {kuma.io/service: s}}]}\n" +
		"---\ntype: Mesh\nname: a.b\n---\ntype: Dataplane\nmesh: a.b\nname: c\nnetworking: {address: 10.0.0.2, inbound: [{port: 1, tags: {kuma.io/service: s}}]}\n"))
	f.Add([]byte("type: TrafficPermission\nmesh: nowhere\nname: p\nsources: [{match: {kuma.io/service: '*'}}]\ndestinations: [{match: {kuma.io/service: '*'}}]\n"))
	f.Add([]byte("type: Mesh\nname: default\nskipCreatingInitialPolicies: ['*']\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := api.Decode("fuzz.yaml", data)
		m, errs := Build(objs)
		if m == nil || m.Mesh(api.DefaultMesh) == nil {
			t.Fatal("no model, or no default mesh")
		}
		named := map[string]bool{}
		for _, e := range errs {
			if e.Resource == "" || e.Message == "" {
				t.Fatalf("error names no resource: %#v", e)
			}
			named[e.Resource] = true
		}
		for _, o := range objs {
			if !inModel(m, o) && !named[o.GetMeta().DisplayName()] {
				t.Fatalf("%s is neither in the model nor named by an error", o.GetMeta().DisplayName())
			}
		}
		given := map[api.Object]bool{}
		for _, o := range objs {
			given[o] = true
		}
		for _, mesh := range m.Meshes() {
			if mesh.Resource == nil || mesh.Resource.Name != mesh.Name {
				t.Fatalf("mesh %q has no or another Mesh resource", mesh.Name)
			}
			for kind, list := range mesh.Policies {
				for _, p := range list {
					if !given[p] {
						t.Fatalf("mesh %q has a %s %s that was not given: meshgate adds no policy", mesh.Name, kind, p.GetMeta().Name)
					}
				}
			}
			for _, dp := range mesh.Dataplanes {
				if mesh.Dataplane(dp.Name) != dp {
					t.Fatalf("Dataplane lookup of %s/%s finds another (list not sorted?)", mesh.Name, dp.Name)
				}
			}
		}
	})
}

// inModel reports whether o itself (not just a resource of the same name) is in m.
func inModel(m *Model, o api.Object) bool {
	meta := o.GetMeta()
	if meta.Kind == api.KindZoneIngress {
		for _, zi := range m.ZoneIngresses() {
			if api.Object(zi) == o {
				return true
			}
		}
		return false
	}
	if meta.Kind == api.KindMesh {
		ms := m.Mesh(meta.Name)
		return ms != nil && api.Object(ms.Resource) == o
	}
	ms := m.Mesh(meta.Mesh)
	if ms == nil {
		return false
	}
	var list []api.Object
	switch meta.Kind {
	case api.KindDataplane:
		for _, r := range ms.Dataplanes {
			list = append(list, r)
		}
	case api.KindMeshGateway:
		for _, r := range ms.Gateways {
			list = append(list, r)
		}
	case api.KindMeshGatewayRoute:
		for _, r := range ms.Routes {
			list = append(list, r)
		}
	case api.KindSecret:
		if s := ms.Secrets[meta.Name]; s != nil {
			list = append(list, s)
		}
	default:
		list = ms.Policies[meta.Kind]
	}
	for _, r := range list {
		if r == o {
			return true
		}
	}
	return false
}
