package v1alpha1

// ProxyTemplate (api/mesh/v1alpha1/proxy_template.proto) customises the Envoy configuration of
// the dataplanes its selectors match: it imports a profile (the configuration Kuma would
// generate), adds raw xDS resources and applies modifications. The Envoy resources are strings
// of YAML (or JSON); this package only checks that they are YAML mappings, and the translator
// checks them against Envoy's protos.
type ProxyTemplate struct {
	Meta `json:"-"`
	Spec ProxyTemplateSpec
}

type ProxyTemplateSpec struct {
	// Selectors may be empty (Kuma does not require one); then it selects every dataplane of the mesh, at the lowest rank (Kuma's SelectDataplanePolicy).
	Selectors []Selector `json:"selectors"`
	// Conf may be absent: Kuma then generates the default profile.
	Conf *ProxyTemplateConf `json:"conf,omitempty"`
}

// Selectors returns the `match` maps of the selectors, in order.
func (t *ProxyTemplate) Selectors() []map[string]string {
	return selectorMaps(t.Spec.Selectors)
}

// Profiles a ProxyTemplate may import: Kuma's names for the configuration it generates for a
// sidecar and for a builtin gateway.
const (
	ProfileDefaultProxy = "default-proxy"
	ProfileGatewayProxy = "gateway-proxy"
)

// ProxyTemplateProfiles lists the profiles a ProxyTemplate may import.
var ProxyTemplateProfiles = []string{ProfileDefaultProxy, ProfileGatewayProxy}

type ProxyTemplateConf struct {
	// Imports lists profiles (ProfileDefaultProxy, ProfileGatewayProxy).
	Imports       []string                    `json:"imports,omitempty"`
	Resources     []ProxyTemplateRawResource  `json:"resources,omitempty"`
	Modifications []ProxyTemplateModification `json:"modifications,omitempty"`
}

// Imports is conf.imports; nil without conf.
func (t *ProxyTemplate) Imports() []string {
	if t.Spec.Conf == nil {
		return nil
	}
	return t.Spec.Conf.Imports
}

// ProxyTemplateRawResource is an xDS resource added as is. Resource is YAML or JSON carrying
// its type in `@type` (`type.googleapis.com/envoy.config.cluster.v3.Cluster`).
type ProxyTemplateRawResource struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
}

// ProxyTemplateModification is a oneof: exactly one member is set.
type ProxyTemplateModification struct {
	Cluster       *ProxyTemplateCluster       `json:"cluster,omitempty"`
	Listener      *ProxyTemplateListener      `json:"listener,omitempty"`
	NetworkFilter *ProxyTemplateNetworkFilter `json:"networkFilter,omitempty"`
	HTTPFilter    *ProxyTemplateHTTPFilter    `json:"httpFilter,omitempty"`
	VirtualHost   *ProxyTemplateVirtualHost   `json:"virtualHost,omitempty"`
}

// Type is the name of the member that is set (`cluster`, `listener`, `networkFilter`,
// `httpFilter`, `virtualHost`), or "" when none is.
func (m ProxyTemplateModification) Type() string {
	switch {
	case m.Cluster != nil:
		return "cluster"
	case m.Listener != nil:
		return "listener"
	case m.NetworkFilter != nil:
		return "networkFilter"
	case m.HTTPFilter != nil:
		return "httpFilter"
	case m.VirtualHost != nil:
		return "virtualHost"
	}
	return ""
}

// ModificationOperation is what a modification does. Clusters, listeners and virtual hosts take
// OpAdd, OpPatch and OpRemove; network and HTTP filters take OpAddFirst, OpAddLast,
// OpAddBefore, OpAddAfter, OpPatch and OpRemove.
type ModificationOperation string

const (
	OpAdd       ModificationOperation = "add"
	OpPatch     ModificationOperation = "patch"
	OpRemove    ModificationOperation = "remove"
	OpAddFirst  ModificationOperation = "addFirst"
	OpAddLast   ModificationOperation = "addLast"
	OpAddBefore ModificationOperation = "addBefore"
	OpAddAfter  ModificationOperation = "addAfter"
)

// ProxyTemplateCluster adds a cluster, or patches (merges Value into, as proto.Merge does) or
// removes the clusters Match selects (all when nil; an added cluster has no match).
type ProxyTemplateCluster struct {
	Match     *ProxyTemplateClusterMatch `json:"match,omitempty"`
	Operation ModificationOperation      `json:"operation"`
	// Value is an Envoy Cluster in YAML or JSON.
	Value string `json:"value,omitempty"`
}

// ProxyTemplateClusterMatch: empty fields match everything. Origin is the generator that made the
// resource (`inbound`, `outbound`, `gateway`, ...).
type ProxyTemplateClusterMatch struct {
	Origin string `json:"origin,omitempty"`
	Name   string `json:"name,omitempty"`
}

// ProxyTemplateListener is ProxyTemplateCluster for listeners.
type ProxyTemplateListener struct {
	Match     *ProxyTemplateListenerMatch `json:"match,omitempty"`
	Operation ModificationOperation       `json:"operation"`
	// Value is an Envoy Listener in YAML or JSON.
	Value string `json:"value,omitempty"`
}

// ProxyTemplateListenerMatch: Tags match the listener's `io.kuma.tags` filter metadata.
type ProxyTemplateListenerMatch struct {
	Origin string            `json:"origin,omitempty"`
	Name   string            `json:"name,omitempty"`
	Tags   map[string]string `json:"tags,omitempty"`
}

// ProxyTemplateNetworkFilter inserts, patches or removes network filters in the filter chains
// of the listeners Match selects.
type ProxyTemplateNetworkFilter struct {
	Match     *ProxyTemplateNetworkFilterMatch `json:"match,omitempty"`
	Operation ModificationOperation            `json:"operation"`
	// Value is an Envoy listener Filter in YAML or JSON.
	Value string `json:"value,omitempty"`
}

// ProxyTemplateNetworkFilterMatch: Name is the filter's (the one to insert before or after, for OpAddBefore
// and OpAddAfter).
type ProxyTemplateNetworkFilterMatch struct {
	Origin       string            `json:"origin,omitempty"`
	Name         string            `json:"name,omitempty"`
	ListenerName string            `json:"listenerName,omitempty"`
	ListenerTags map[string]string `json:"listenerTags,omitempty"`
}

// ProxyTemplateHTTPFilter is ProxyTemplateNetworkFilter for the HTTP filters of the HTTP
// connection managers.
type ProxyTemplateHTTPFilter struct {
	Match     *ProxyTemplateHTTPFilterMatch `json:"match,omitempty"`
	Operation ModificationOperation         `json:"operation"`
	// Value is an Envoy HttpFilter in YAML or JSON.
	Value string `json:"value,omitempty"`
}

type ProxyTemplateHTTPFilterMatch struct {
	Origin       string            `json:"origin,omitempty"`
	Name         string            `json:"name,omitempty"`
	ListenerName string            `json:"listenerName,omitempty"`
	ListenerTags map[string]string `json:"listenerTags,omitempty"`
}

// ProxyTemplateVirtualHost adds, patches or removes virtual hosts of route configurations.
type ProxyTemplateVirtualHost struct {
	Match     *ProxyTemplateVirtualHostMatch `json:"match,omitempty"`
	Operation ModificationOperation          `json:"operation"`
	// Value is an Envoy VirtualHost in YAML or JSON.
	Value string `json:"value,omitempty"`
}

// ProxyTemplateVirtualHostMatch: for OpAdd, RouteConfigurationName and Origin select where to add, and Name
// must be empty.
type ProxyTemplateVirtualHostMatch struct {
	Origin                 string `json:"origin,omitempty"`
	Name                   string `json:"name,omitempty"`
	RouteConfigurationName string `json:"routeConfigurationName,omitempty"`
}
