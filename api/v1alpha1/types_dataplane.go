package v1alpha1

import "strings"

// Dataplane describes one Envoy: a builtin or delegated gateway, or a service sidecar.
type Dataplane struct {
	Meta `json:"-"`
	Spec DataplaneSpec
}

type DataplaneSpec struct {
	Networking Networking     `json:"networking"`
	Metrics    map[string]any `json:"metrics,omitempty"`
	Probes     map[string]any `json:"probes,omitempty"`
}

type GatewayType string

const (
	GatewayDelegated GatewayType = "DELEGATED"
	GatewayBuiltin   GatewayType = "BUILTIN"
)

type Networking struct {
	Address             string               `json:"address"`
	AdvertisedAddress   string               `json:"advertisedAddress,omitempty"`
	Gateway             *DataplaneGateway    `json:"gateway,omitempty"`
	Inbound             []Inbound            `json:"inbound,omitempty"`
	Outbound            []Outbound           `json:"outbound,omitempty"`
	TransparentProxying *TransparentProxying `json:"transparentProxying,omitempty"`
	Admin               *Admin               `json:"admin,omitempty"`
}

type DataplaneGateway struct {
	// Type is DELEGATED when empty, as in Kuma's proto.
	Type GatewayType       `json:"type,omitempty"`
	Tags map[string]string `json:"tags"`
}

// IsBuiltin reports whether the dataplane is a builtin gateway.
func (d *DataplaneSpec) IsBuiltin() bool {
	return d.Networking.Gateway != nil && d.Networking.Gateway.Type == GatewayBuiltin
}

type Inbound struct {
	Port           uint32            `json:"port"`
	ServicePort    uint32            `json:"servicePort,omitempty"`
	ServiceAddress string            `json:"serviceAddress,omitempty"`
	Address        string            `json:"address,omitempty"`
	Name           string            `json:"name,omitempty"`
	Tags           map[string]string `json:"tags"`
	Health         *Health           `json:"health,omitempty"`
}

type Health struct {
	Ready bool `json:"ready"`
}

type Outbound struct {
	Port    uint32            `json:"port"`
	Address string            `json:"address,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
}

type TransparentProxying struct {
	RedirectPortInbound  uint32 `json:"redirectPortInbound,omitempty"`
	RedirectPortOutbound uint32 `json:"redirectPortOutbound,omitempty"`
	// RedirectPortInboundV6 is Kuma 1.x's port for redirected IPv6 inbound traffic. Kuma 2.x
	// deprecated it and redirects both families to redirectPortInbound; it is accepted, so
	// older resources load, and ignored.
	RedirectPortInboundV6 uint32 `json:"redirectPortInboundV6,omitempty"`
	// IPFamilyMode is Kuma's `UnSpecified`, `DualStack` (both the default) or `IPv4`: whether
	// the iptables rules also redirect IPv6 traffic.
	IPFamilyMode string `json:"ipFamilyMode,omitempty"`
}

// IP family modes of a transparent proxy, as Kuma's enum names them (compared
// case-insensitively, since kumactl spells them `dualstack` and `ipv4`).
const (
	IPFamilyUnspecified = "UnSpecified"
	IPFamilyDualStack   = "DualStack"
	IPFamilyIPv4        = "IPv4"
)

// RedirectsIPv6 reports whether the transparent proxy also redirects IPv6 traffic: every mode
// but IPv4, as in Kuma 2.x, where dual stack is the default.
func (t *TransparentProxying) RedirectsIPv6() bool {
	return t != nil && !strings.EqualFold(t.IPFamilyMode, IPFamilyIPv4)
}

type Admin struct {
	Port uint32 `json:"port,omitempty"`
}

// ServicelessPort is the inbound port Kuma gives a Kubernetes pod that no Service selects
// (IANA reserved: nothing listens there). Such an inbound carries the pod's identity and
// tags only: it gets no listener, no endpoint and no `.mesh` name, as in Kuma.
const ServicelessPort = 49151
