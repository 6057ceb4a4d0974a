package v1alpha1

// MeshGateway declares the listeners of the builtin gateway dataplanes its selectors match.
type MeshGateway struct {
	Meta `json:"-"`
	Spec MeshGatewaySpec
}

type MeshGatewaySpec struct {
	Selectors []Selector        `json:"selectors"`
	Tags      map[string]string `json:"tags,omitempty"`
	Conf      *MeshGatewayConf  `json:"conf"`
}

// Selector matches a tag set when every key is present with an equal value, or the value is `*`.
type Selector struct {
	Match map[string]string `json:"match"`
}

type MeshGatewayConf struct {
	Listeners []Listener `json:"listeners"`
}

type Protocol string

const (
	ProtocolNone  Protocol = ""
	ProtocolTCP   Protocol = "TCP"
	ProtocolTLS   Protocol = "TLS"
	ProtocolHTTP  Protocol = "HTTP"
	ProtocolHTTPS Protocol = "HTTPS"
)

type Listener struct {
	Hostname  string             `json:"hostname,omitempty"`
	Port      uint32             `json:"port"`
	Protocol  Protocol           `json:"protocol"`
	TLS       *ListenerTLS       `json:"tls,omitempty"`
	Tags      map[string]string  `json:"tags,omitempty"`
	CrossMesh bool               `json:"crossMesh,omitempty"`
	Resources *ListenerResources `json:"resources,omitempty"`
}

type TLSMode string

const (
	TLSModeNone        TLSMode = ""
	TLSModeTerminate   TLSMode = "TERMINATE"
	TLSModePassthrough TLSMode = "PASSTHROUGH"
)

type ListenerTLS struct {
	Mode         TLSMode        `json:"mode,omitempty"`
	Certificates []DataSource   `json:"certificates,omitempty"`
	Options      map[string]any `json:"options,omitempty"`
}

// DataSource is exactly one of a mesh Secret name, a file path, base64 bytes or a plain string.
type DataSource struct {
	Secret       string `json:"secret,omitempty"`
	File         string `json:"file,omitempty"`
	Inline       string `json:"inline,omitempty"`
	InlineString string `json:"inlineString,omitempty"`
}

type ListenerResources struct {
	ConnectionLimit uint32 `json:"connectionLimit,omitempty"`
}
