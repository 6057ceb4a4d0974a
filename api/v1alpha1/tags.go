package v1alpha1

// Tags with a meaning to Kuma and meshgate. This is their one definition: xds/names, the
// builder, crossmesh and model all use these constants rather than spelling the keys.
const (
	ServiceTag  = "kuma.io/service"
	ProtocolTag = "kuma.io/protocol"
	ZoneTag     = "kuma.io/zone"
	// MeshTag names the mesh of a cross-mesh outbound, and of a Kubernetes object as a label.
	MeshTag            = "kuma.io/mesh"
	ExternalServiceTag = "kuma.io/external-service-name"
)
