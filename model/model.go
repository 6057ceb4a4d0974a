// Package model turns the full set of decoded resources into one validated, immutable, indexed
// view of every mesh. Everything downstream (xDS build, cross-mesh, DNS) reads only this.
package model

import (
	"fmt"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Model is every mesh and its resources. It is never modified after Build.
type Model struct {
	meshes map[string]*Mesh
	names  []string
	// ingresses are the ZoneIngresses (local and received from other zones), sorted by name.
	ingresses []*api.ZoneIngress
}

// Mesh is one mesh's resources, each list sorted by name.
type Mesh struct {
	Name string
	// Resource is the Mesh resource; for the implicit `default` mesh it is synthesised.
	Resource   *api.Mesh
	Dataplanes []*api.Dataplane
	Gateways   []*api.MeshGateway
	Routes     []*api.MeshGatewayRoute
	Secrets    map[string]*api.Secret
	// Policies holds every other kind (TrafficPermission, FaultInjection, ...) by kind, each
	// list sorted by name. Policy packages read them through typed accessors. Only the
	// resources given are here: meshgate adds no default policy (see DeniesAll).
	Policies map[api.Kind][]api.Object
}

// MTLSEnabled reports whether the mesh runs a CA.
func (m *Mesh) MTLSEnabled() bool { return m.Resource.Spec.MTLSEnabled() }

// Dataplane returns the named dataplane or nil.
func (m *Mesh) Dataplane(name string) *api.Dataplane {
	i := sort.Search(len(m.Dataplanes), func(i int) bool { return m.Dataplanes[i].Name >= name })
	if i < len(m.Dataplanes) && m.Dataplanes[i].Name == name {
		return m.Dataplanes[i]
	}
	return nil
}

// Meshes returns the meshes sorted by name.
func (m *Model) Meshes() []*Mesh {
	out := make([]*Mesh, len(m.names))
	for i, n := range m.names {
		out[i] = m.meshes[n]
	}
	return out
}

// Mesh returns the named mesh or nil.
func (m *Model) Mesh(name string) *Mesh { return m.meshes[name] }

// Build indexes objects into a Model. Objects must already have passed their own Validate.
// Cross-resource problems (a resource in a mesh that does not exist, a name used twice) are
// returned as errors and the offending resource is left out; the rest still builds.
func Build(objs []api.Object) (*Model, api.ErrorList) {
	var errs api.ErrorList
	m := &Model{meshes: map[string]*Mesh{}}
	seen := map[string]*api.Meta{}
	nodes := map[string]*api.Meta{}
	unique := func(meta *api.Meta) bool {
		if first, ok := seen[meta.Key()]; ok {
			errs = append(errs, api.FieldError{
				File: meta.Source.File, Line: meta.Source.Line, Resource: meta.DisplayName(), Field: "name",
				Message: fmt.Sprintf("already defined at %s:%d", first.Source.File, first.Source.Line),
			})
			return false
		}
		seen[meta.Key()] = meta
		return true
	}
	for _, o := range objs {
		if mesh, ok := o.(*api.Mesh); ok && unique(&mesh.Meta) {
			m.meshes[mesh.Name] = newMesh(mesh)
		}
	}
	if m.meshes[api.DefaultMesh] == nil {
		// Kuma creates the default mesh on start; resources that name no mesh land there.
		m.meshes[api.DefaultMesh] = newMesh(&api.Mesh{Meta: api.Meta{Kind: api.KindMesh, Name: api.DefaultMesh}})
	}
	for _, o := range objs {
		meta := o.GetMeta()
		if meta.Kind == api.KindMesh {
			continue
		}
		if zi, ok := o.(*api.ZoneIngress); ok {
			if unique(meta) {
				m.ingresses = append(m.ingresses, zi)
			}
			continue
		}
		mesh := m.meshes[meta.Mesh]
		if mesh == nil {
			errs = append(errs, api.FieldError{
				File: meta.Source.File, Line: meta.Source.Line, Resource: meta.DisplayName(), Field: "mesh",
				Message: fmt.Sprintf("mesh %q does not exist", meta.Mesh),
			})
			continue
		}
		if !unique(meta) {
			continue
		}
		switch r := o.(type) {
		case *api.Dataplane:
			// Envoy knows a dataplane only by its node id `<mesh>.<name>`; with dots allowed in
			// both, `a.b`/`c` and `a`/`b.c` would share one and receive each other's config.
			node := api.NodeID(r.Mesh, r.Name)
			if first, ok := nodes[node]; ok {
				errs = append(errs, api.FieldError{
					File: meta.Source.File, Line: meta.Source.Line, Resource: meta.DisplayName(), Field: "name",
					Message: fmt.Sprintf("node id %q is already used by %s (%s:%d)", node, first.DisplayName(), first.Source.File, first.Source.Line),
				})
				continue
			}
			nodes[node] = meta
			mesh.Dataplanes = append(mesh.Dataplanes, r)
		case *api.MeshGateway:
			mesh.Gateways = append(mesh.Gateways, r)
		case *api.MeshGatewayRoute:
			mesh.Routes = append(mesh.Routes, r)
		case *api.Secret:
			mesh.Secrets[r.Name] = r
		default:
			mesh.Policies[meta.Kind] = append(mesh.Policies[meta.Kind], o)
		}
	}
	for name, mesh := range m.meshes {
		m.names = append(m.names, name)
		sortByName(mesh.Dataplanes)
		sortByName(mesh.Gateways)
		sortByName(mesh.Routes)
		for _, list := range mesh.Policies {
			sortByName(list)
		}
	}
	sort.Strings(m.names)
	sortByName(m.ingresses)
	errs.Sort()
	return m, errs
}

func newMesh(r *api.Mesh) *Mesh {
	return &Mesh{Name: r.Name, Resource: r, Secrets: map[string]*api.Secret{}, Policies: map[api.Kind][]api.Object{}}
}

func sortByName[T api.Object](list []T) {
	sort.Slice(list, func(i, j int) bool { return list[i].GetMeta().Name < list[j].GetMeta().Name })
}
