package v1alpha1

// KindZoneIngress is Kuma's ZoneIngress: the entry point of one zone for traffic from other
// zones. Not mesh-scoped: one ingress serves every mesh of its zone.
const KindZoneIngress Kind = "ZoneIngress"

// ZoneIngress follows Kuma's mesh_proto.ZoneIngress field names.
type ZoneIngress struct {
	Meta `json:"-"`
	Spec ZoneIngressSpec
}

type ZoneIngressSpec struct {
	// Zone is the zone the ingress serves. The zone control plane sets it; an ingress received
	// from another zone without it could not be told apart from a local one.
	Zone              string                 `json:"zone,omitempty"`
	Networking        *ZoneIngressNetworking `json:"networking,omitempty"`
	AvailableServices []AvailableService     `json:"availableServices,omitempty"`
}

type ZoneIngressNetworking struct {
	// Address and Port are where the ingress's Envoy listens.
	Address string `json:"address,omitempty"`
	Port    uint32 `json:"port,omitempty"`
	// AdvertisedAddress and AdvertisedPort are what other zones dial (a load balancer or NAT
	// in front of Address:Port).
	AdvertisedAddress string      `json:"advertisedAddress,omitempty"`
	AdvertisedPort    uint32      `json:"advertisedPort,omitempty"`
	Admin             *EnvoyAdmin `json:"admin,omitempty"`
}

// EnvoyAdmin is the admin port of the ingress's Envoy.
type EnvoyAdmin struct {
	Port uint32 `json:"port,omitempty"`
}

// AvailableService is one (mesh, service tags) the ingress can reach in its zone, with the
// number of ready instances behind it.
type AvailableService struct {
	Mesh      string            `json:"mesh,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Instances uint32            `json:"instances,omitempty"`
}

// IsService reports whether the entry offers a service itself (tags kuma.io/service and at most
// kuma.io/protocol), not a cross-mesh gateway listener (which adds a port tag).
func (a AvailableService) IsService() bool {
	for k := range a.Tags {
		if k != ServiceTag && k != ProtocolTag {
			return false
		}
	}
	return a.Tags[ServiceTag] != ""
}
