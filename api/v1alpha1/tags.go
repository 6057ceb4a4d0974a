package v1alpha1

// Tags with a meaning to Kuma and meshgate.
const (
	ServiceTag  = "kuma.io/service"
	ProtocolTag = "kuma.io/protocol"
	ZoneTag     = "kuma.io/zone"
	// MeshTag names the mesh of a cross-mesh outbound, and of a Kubernetes object as a label.
	MeshTag            = "kuma.io/mesh"
	ExternalServiceTag = "kuma.io/external-service-name"
)
