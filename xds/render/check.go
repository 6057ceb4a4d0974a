package render

import (
	"fmt"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
)

// CheckAll renders every dataplane and returns their diagnostics, deduplicated and in order,
// each located like a validation error (`file:line: Resource: field: message`) when the
// resource came from a file. An error means meshgate itself produced invalid configuration.
func CheckAll(m *model.Model, opts build.Options) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	network := build.PreviewNetwork(m)
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			o, err := Render(build.Request{Model: m, Mesh: mesh.Name, Name: dp.Name, Options: opts, Network: network})
			if err != nil {
				return nil, err
			}
			for _, d := range o.Proxy.Diagnostics {
				if s := d.Error(); !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
	}
	return out, nil
}

// Notes are what a user should know about the meshes beyond the errors and diagnostics of
// their resources; `validate` prints them as warnings and the control plane logs them. Today:
// an mTLS mesh without any TrafficPermission, whose inbounds deny every caller.
func Notes(m *model.Model) []string {
	var out []string
	for _, mesh := range m.Meshes() {
		if mesh.DeniesAll() {
			out = append(out, DenyAllWarning(mesh.Name))
		}
	}
	return out
}

// DenyAllWarning says that an mTLS mesh without TrafficPermission denies all inbound traffic,
// and how to allow it.
func DenyAllWarning(mesh string) string {
	return fmt.Sprintf("mesh %q has mTLS and no TrafficPermission: every inbound denies all traffic (as in Kuma 2.13); "+
		"allow callers with TrafficPermissions, or everything with `meshgate mesh allow-all --mesh %s`", mesh, mesh)
}

// CrossMeshErrors are the cross-mesh conflicts (a hostname claimed by two gateways, a
// cross-mesh gateway in a mesh without mTLS), located like validation errors. The control plane
// publishes the first claim and skips the rest; validate rejects them before they are applied.
func CrossMeshErrors(m *model.Model) api.ErrorList {
	_, problems := crossmesh.Resolve(m)
	errs := api.ErrorList(problems)
	errs.Sort()
	return errs
}
