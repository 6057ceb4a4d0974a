package wire

import (
	"net/url"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// ApplyPath takes a multi-document body applied in one transaction.
const ApplyPath = "/apply"

// CollectionPath is where resources of a kind are listed: `/meshes/{mesh}/{plural}` for a mesh,
// `/{plural}` across every mesh (or for a global kind such as Mesh).
func CollectionPath(info api.KindInfo, mesh string) string {
	if info.Global || mesh == "" {
		return "/" + Plural(info.Kind)
	}
	return "/meshes/" + url.PathEscape(mesh) + "/" + Plural(info.Kind)
}

// ResourcePath is one resource: `/meshes/{mesh}/{plural}/{name}`, or `/{plural}/{name}` for a
// global kind (so `/meshes/{name}` for a Mesh).
func ResourcePath(info api.KindInfo, mesh, name string) string {
	if info.Global {
		return "/" + Plural(info.Kind) + "/" + url.PathEscape(name)
	}
	return CollectionPath(info, mesh) + "/" + url.PathEscape(name)
}

// DataplanePath is a dataplane sub-resource such as `xds` or `inspect`.
func DataplanePath(mesh, name, sub string) string {
	info, _ := api.LookupKind(api.KindDataplane)
	return ResourcePath(info, mesh, name) + "/" + sub
}
