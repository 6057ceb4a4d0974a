package model

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// An mTLS mesh without any TrafficPermission admits no caller at all: Kuma 2.13's default, and
// the right one for a security product. meshgate never adds a permission of its own (older Kuma
// releases created `allow-all-<mesh>` with every mesh); an operator who wants everything allowed creates
// that permission where everyone can see it, e.g. with `meshgate mesh allow-all`. A Mesh's
// `skipCreatingInitialPolicies` is accepted for compatibility and changes nothing.

// AllowAllPermissionName is the name Kuma gave the allow-all permission of a mesh.
func AllowAllPermissionName(mesh string) string { return "allow-all-" + mesh }

// AllowAllPermission is the TrafficPermission that lets every service of mesh call every other:
// Kuma's former default, for operators who choose it.
func AllowAllPermission(mesh string) *api.TrafficPermission {
	all := []api.Selector{{Match: map[string]string{api.ServiceTag: "*"}}}
	return &api.TrafficPermission{
		Meta: api.Meta{Kind: api.KindTrafficPermission, Mesh: mesh, Name: AllowAllPermissionName(mesh)},
		Spec: api.TrafficPermissionSpec{Sources: all, Destinations: all},
	}
}

// DeniesAll reports whether the mesh's inbounds admit no caller because it has mTLS and no
// TrafficPermission: worth a warning, since it is rarely what a new mesh's owner expects.
func (m *Mesh) DeniesAll() bool {
	return m.MTLSEnabled() && len(m.Policies[api.KindTrafficPermission]) == 0
}
