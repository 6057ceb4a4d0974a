package model

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// DefaultPermissionSource is the Source.File of a TrafficPermission meshgate added itself.
const DefaultPermissionSource = "(default)"

// DefaultPermissionName is Kuma's name for the permission it creates with every mesh.
func DefaultPermissionName(mesh string) string { return "allow-all-" + mesh }

// addDefaultPermission gives a mesh without any TrafficPermission Kuma's initial
// `allow-all-<mesh>`, so that turning mTLS on does not cut every connection. A mesh whose
// `skipCreatingInitialPolicies` lists TrafficPermission (or `*`) gets none: there, as in Kuma,
// nothing is allowed until a permission says so.
func (m *Mesh) addDefaultPermission() {
	if len(m.Policies[api.KindTrafficPermission]) > 0 {
		return
	}
	for _, skip := range m.Resource.Spec.SkipCreatingInitialPolicies {
		if skip == "*" || skip == string(api.KindTrafficPermission) {
			return
		}
	}
	all := []api.Selector{{Match: map[string]string{api.ServiceTag: "*"}}}
	tp := &api.TrafficPermission{
		Meta: api.Meta{
			Kind: api.KindTrafficPermission, Mesh: m.Name, Name: DefaultPermissionName(m.Name),
			Source: api.Source{File: DefaultPermissionSource},
		},
		Spec: api.TrafficPermissionSpec{Sources: all, Destinations: all},
	}
	m.Policies[api.KindTrafficPermission] = []api.Object{tp}
	m.DefaultPermission = true
}
