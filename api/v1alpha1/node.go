package v1alpha1

// NodeID is the Envoy node id of a dataplane, `<mesh>.<name>`, as Kuma writes it. It lives here,
// not in xds/names (whose Node calls it), so that model can refuse two dataplanes that would share
// one without importing anything under xds/.
func NodeID(mesh, dataplane string) string { return mesh + "." + dataplane }
