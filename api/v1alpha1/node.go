package v1alpha1

import "strings"

// NodeID is the Envoy node id of a dataplane, `<mesh>.<name>`, as Kuma writes it. It lives here,
// not in xds/names (whose Node calls it), so that model can refuse two dataplanes that would share
// one without importing anything under xds/.
func NodeID(mesh, dataplane string) string { return mesh + "." + dataplane }

// SplitNodeID reads a node id as Kuma does, splitting at the first dot. Mesh names in tokens
// cannot contain dots, so a token's dataplane has exactly one node id; ok is false when id has no
// dot.
func SplitNodeID(id string) (mesh, dataplane string, ok bool) { return strings.Cut(id, ".") }
