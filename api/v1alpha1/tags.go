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

// Labels with a meaning to meshgate (resource labels, not tags).
const (
	// ProxyTypeLabel on a Dataplane says what consumes its xDS configuration. Absent, it is an
	// Envoy (sidecar or gateway). ProxyTypeProxyless (`meshgate.io/proxy-type: proxyless`) is
	// a gRPC application with its own xDS client and server (gRPC-Go's xds package): it gets
	// API listeners named as its `xds:///` targets, server listeners for its inbounds and
	// certificate-provider instances instead of SDS (see README, "Proxyless gRPC").
	ProxyTypeLabel     = "meshgate.io/proxy-type"
	ProxyTypeProxyless = "proxyless"
)
