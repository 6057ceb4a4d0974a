// Package ir is the readable, validated intermediate representation of one dataplane's
// configuration. xds/build produces it from the model; xds/translate turns it into Envoy
// resources and sees nothing else. Every slice is in its final order: translation never sorts.
//
// The json tags (camelCase, omitempty; sigs.k8s.io/yaml reads them too) name the fields in each
// golden case's ir.yaml, the stage between the resources and the Envoy configuration: a change
// that moves ir.yaml is in xds/build, one that moves only the Envoy files is in xds/translate.
package ir

import (
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Proxy is everything one dataplane receives.
type Proxy struct {
	// Node is the Envoy node id, `<mesh>.<name>`.
	Node      string     `json:"node,omitempty"`
	Mesh      string     `json:"mesh,omitempty"`
	Dataplane string     `json:"dataplane,omitempty"`
	Listeners []Listener `json:"listeners,omitempty"`
	Clusters  []Cluster  `json:"clusters,omitempty"`
	// Secrets are server certificates the listeners reference by name. Mesh identity and CA
	// secrets are referenced by name only (see UpstreamMTLS) and delivered by the CA over SDS.
	Secrets []Secret `json:"secrets,omitempty"`
	// Diagnostics are problems that cost part of the configuration (a route that could not be
	// built, a gateway that matched nothing); the rest still ships. Each is located in the
	// resource it is about by whoever built it (api.Meta.Problem); its JSON form is
	// capitalized (Resource, Field, Message), as the status API and diagnostics.yaml carry it.
	Diagnostics []api.FieldError `json:"diagnostics,omitempty"`
	// Offline is set when the proxy was built without a CA (`meshgate render`): listeners then
	// name the mesh identity and trust bundle secrets that only a running control plane
	// delivers, and validation does not require them to be in Secrets.
	Offline bool `json:"offline,omitempty"`
	// Proxyless marks a gRPC application with its own xDS client instead of an Envoy
	// (xds/translate/proxyless translates it; see proxyless.go for what its IR may hold).
	Proxyless bool `json:"proxyless,omitempty"`
}

type Protocol string

const (
	HTTP  Protocol = "HTTP"
	HTTPS Protocol = "HTTPS"
	TCP   Protocol = "TCP"
	TLS   Protocol = "TLS"
)

// Listener is one Envoy listener: one per gateway port.
type Listener struct {
	Name     string   `json:"name,omitempty"`
	Address  string   `json:"address,omitempty"`
	Port     uint32   `json:"port,omitempty"`
	Protocol Protocol `json:"protocol,omitempty"`
	// StatPrefix is the gateway's identifying service.
	StatPrefix string `json:"statPrefix,omitempty"`
	CrossMesh  bool   `json:"crossMesh,omitempty"`
	// ConnectionLimit is 0 for unlimited.
	ConnectionLimit uint32        `json:"connectionLimit,omitempty"`
	FilterChains    []FilterChain `json:"filterChains,omitempty"`
	// Direction is INBOUND when empty.
	Direction Direction `json:"direction,omitempty"`
	// Virtual listeners do not bind (bind_to_port: false): the transparent-proxy redirect
	// listener hands them the connections whose original destination is their address:port.
	Virtual bool `json:"virtual,omitempty"`
	// UseOriginalDst makes this the redirect listener of a transparent proxy; its
	// DefaultChain serves connections no virtual listener claims.
	UseOriginalDst bool         `json:"useOriginalDst,omitempty"`
	DefaultChain   *FilterChain `json:"defaultChain,omitempty"`
}

// FilterChain holds exactly one of HTTP and TCP.
type FilterChain struct {
	Name string `json:"name,omitempty"`
	// ServerNames is the SNI match; empty matches any SNI and none.
	ServerNames []string `json:"serverNames,omitempty"`
	// TransportProtocolTLS matches only TLS connections (set for HTTPS and TLS listeners).
	TransportProtocolTLS bool `json:"transportProtocolTLS,omitempty"`
	// ApplicationProtocols is the ALPN match (`kuma` for cross-mesh listeners, which mesh
	// clients reach with that ALPN and no meaningful SNI); it needs TransportProtocolTLS.
	ApplicationProtocols []string `json:"applicationProtocols,omitempty"`
	// TLS terminates TLS; nil for plain text and for TLS passthrough.
	TLS *DownstreamTLS `json:"tls,omitempty"`
	// RBAC, when set, admits only peers it allows (see RBAC).
	RBAC *RBAC                  `json:"rbac,omitempty"`
	HTTP *HTTPConnectionManager `json:"http,omitempty"`
	TCP  *TCPProxy              `json:"tcp,omitempty"`
}

// DownstreamTLS presents either listener certificates or the mesh identity. With
// RequireClientCert it is mutual TLS and each client is checked against its own trust domain.
type DownstreamTLS struct {
	// CertificateSecrets name Secrets of this Proxy, in the order the listener declared them.
	CertificateSecrets []string `json:"certificateSecrets,omitempty"`
	// IdentitySecret names the mesh identity (SVID) secret presented instead, for mTLS
	// listeners; exactly one of it and CertificateSecrets is set.
	IdentitySecret string   `json:"identitySecret,omitempty"`
	ALPN           []string `json:"alpn,omitempty"`
	MinVersion     string   `json:"minVersion,omitempty"`
	// RequireClientCert rejects clients without a certificate that ValidationSecret accepts.
	RequireClientCert bool `json:"requireClientCert,omitempty"`
	// ValidationSecret names the secret (SDS) clients are validated against, required with
	// RequireClientCert. Either a mesh trust bundle (a sidecar inbound, which only its own mesh
	// may call), with SANPrefix (`spiffe://<mesh>/`) required of the client's URI SAN; or a
	// secret with SPIFFETrustDomains (a cross-mesh listener), without SANPrefix.
	ValidationSecret string `json:"validationSecret,omitempty"`
	SANPrefix        string `json:"sanPrefix,omitempty"`
	// IdentityProvider and ValidationProvider replace IdentitySecret and ValidationSecret on a
	// proxyless dataplane: certificate provider instances of its bootstrap.
	IdentityProvider   string `json:"identityProvider,omitempty"`
	ValidationProvider string `json:"validationProvider,omitempty"`
}

// HTTPConnectionManager carries its route configuration inline; translation emits it as RDS.
type HTTPConnectionManager struct {
	StatPrefix  string      `json:"statPrefix,omitempty"`
	RouteConfig RouteConfig `json:"routeConfig,omitempty"`
	Options     HTTPOptions `json:"options,omitempty"`
	// ForwardClientCert replaces any incoming x-forwarded-client-cert with the verified client's
	// URI SAN, so backends learn the caller's SPIFFE ID and a client cannot forge it. Only
	// meaningful on a chain that requires client certificates.
	ForwardClientCert bool `json:"forwardClientCert,omitempty"`
	// Faults run before the router, in order (sidecar inbounds).
	Faults []Fault `json:"faults,omitempty"`
	// Compression gzips responses for clients that accept it, except those carrying an ETag
	// (a compressed body would not match it): Kuma's builtin gateway filter, before the router.
	Compression bool        `json:"compression,omitempty"`
	AccessLogs  []AccessLog `json:"accessLogs,omitempty"`
	// Sidecar connection managers (inbound, outbound) skip the gateway's edge settings in
	// Options and keep Envoy's defaults, as Kuma's sidecars do.
	Sidecar bool `json:"sidecar,omitempty"`
	// StreamIdleTimeout is a sidecar connection manager's stream_idle_timeout (a gateway's is
	// in Options); 0 keeps Envoy's 5 minutes.
	StreamIdleTimeout time.Duration `json:"streamIdleTimeout,omitempty"`
}

// HTTPOptions are the edge settings of an HTTP connection manager (Envoy's edge best practices).
type HTTPOptions struct {
	ServerName            string        `json:"serverName,omitempty"`
	RequestHeadersTimeout time.Duration `json:"requestHeadersTimeout,omitempty"`
	StreamIdleTimeout     time.Duration `json:"streamIdleTimeout,omitempty"`
	IdleTimeout           time.Duration `json:"idleTimeout,omitempty"`
	MaxConcurrentStreams  uint32        `json:"maxConcurrentStreams,omitempty"`
	InitialStreamWindow   uint32        `json:"initialStreamWindow,omitempty"`
	InitialConnWindow     uint32        `json:"initialConnWindow,omitempty"`
	// InternalAddresses are the CIDRs treated as internal by use_remote_address.
	InternalAddresses []string `json:"internalAddresses,omitempty"`
}

type RouteConfig struct {
	Name         string        `json:"name,omitempty"`
	VirtualHosts []VirtualHost `json:"virtualHosts,omitempty"`
	// RequestHeadersToRemove are stripped from every request before routing.
	RequestHeadersToRemove []string `json:"requestHeadersToRemove,omitempty"`
}

type VirtualHost struct {
	Name    string   `json:"name,omitempty"`
	Domains []string `json:"domains,omitempty"`
	// RequireTLS redirects plain-text requests (HTTPS listeners).
	RequireTLS           bool     `json:"requireTLS,omitempty"`
	ResponseHeadersToAdd []Header `json:"responseHeadersToAdd,omitempty"`
	Routes               []Route  `json:"routes,omitempty"`
}

type Header struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// HeaderMutation is a set of header changes; Set overwrites, Add appends.
type HeaderMutation struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// IsEmpty reports whether the mutation changes nothing.
func (h HeaderMutation) IsEmpty() bool {
	return len(h.Set) == 0 && len(h.Add) == 0 && len(h.Remove) == 0
}

// Route is one Envoy route; exactly one of Forward, Redirect, DirectResponse and NonForwarding
// is set.
type Route struct {
	// Name is readable and unique within its virtual host: `<route>/rules[i]/matches[j]`.
	Name string `json:"name,omitempty"`
	// Origin is the MeshGatewayRoute rule this route comes from; nil for generated routes (404).
	Origin          *RouteOrigin    `json:"origin,omitempty"`
	Match           RouteMatch      `json:"match,omitempty"`
	RequestHeaders  HeaderMutation  `json:"requestHeaders,omitempty"`
	ResponseHeaders HeaderMutation  `json:"responseHeaders,omitempty"`
	Forward         *Forward        `json:"forward,omitempty"`
	Redirect        *Redirect       `json:"redirect,omitempty"`
	DirectResponse  *DirectResponse `json:"directResponse,omitempty"`
	// NonForwarding is the route of a proxyless server listener: the gRPC server itself handles
	// the request (Envoy's non_forwarding_action).
	NonForwarding bool `json:"nonForwarding,omitempty"`
}

// RouteOrigin points back at the resource: the MeshGatewayRoute, rule and match indexes.
type RouteOrigin struct {
	Mesh  string `json:"mesh,omitempty"`
	Route string `json:"route,omitempty"`
	Rule  int    `json:"rule"`
	Match int    `json:"match"`
}

type PathKind string

const (
	PathExact  PathKind = "Exact"
	PathPrefix PathKind = "Prefix"
	PathRegex  PathKind = "Regex"
)

type PathMatch struct {
	Kind  PathKind `json:"kind,omitempty"`
	Value string   `json:"value,omitempty"`
}

type HeaderMatchKind string

const (
	HeaderExact   HeaderMatchKind = "Exact"
	HeaderRegex   HeaderMatchKind = "Regex"
	HeaderPresent HeaderMatchKind = "Present"
	HeaderAbsent  HeaderMatchKind = "Absent"
)

type HeaderMatch struct {
	Name  string          `json:"name,omitempty"`
	Kind  HeaderMatchKind `json:"kind,omitempty"`
	Value string          `json:"value,omitempty"`
}

type QueryMatchKind string

const (
	QueryExact QueryMatchKind = "Exact"
	QueryRegex QueryMatchKind = "Regex"
)

type QueryMatch struct {
	Name  string         `json:"name,omitempty"`
	Kind  QueryMatchKind `json:"kind,omitempty"`
	Value string         `json:"value,omitempty"`
}

// RouteMatch is ANDed: path, then method (as a `:method` header match), headers and query.
type RouteMatch struct {
	Path    PathMatch     `json:"path,omitempty"`
	Method  string        `json:"method,omitempty"`
	Headers []HeaderMatch `json:"headers,omitempty"`
	Query   []QueryMatch  `json:"query,omitempty"`
}

type WeightedCluster struct {
	Name   string `json:"name,omitempty"`
	Weight uint32 `json:"weight,omitempty"`
	// RequestHeadersToAdd are added to requests sent to this cluster (e.g. x-kuma-tags).
	RequestHeadersToAdd []Header `json:"requestHeadersToAdd,omitempty"`
}

type Forward struct {
	Clusters []WeightedCluster `json:"clusters,omitempty"`
	// PrefixRewrite replaces the matched prefix; FullPathRewrite replaces the whole path.
	PrefixRewrite   string `json:"prefixRewrite,omitempty"`
	FullPathRewrite string `json:"fullPathRewrite,omitempty"`
	// HostRewrite sets the Host header to a literal; AutoHostRewrite to the backend's hostname.
	HostRewrite     string   `json:"hostRewrite,omitempty"`
	AutoHostRewrite bool     `json:"autoHostRewrite,omitempty"`
	Mirrors         []Mirror `json:"mirrors,omitempty"`
	// Timeout is the route's request timeout; 0 leaves Envoy's default of 15 s unless
	// NoTimeout turns it off (Envoy's `timeout: 0s`), as Kuma's sidecar defaults do.
	Timeout     time.Duration `json:"timeout,omitempty"`
	NoTimeout   bool          `json:"noTimeout,omitempty"`
	IdleTimeout time.Duration `json:"idleTimeout,omitempty"`
	// Route-level policy choices (docs/kuma-compatibility.md#policy-matching): retry, local rate limit, and what decided them.
	Retry     *RetryPolicy     `json:"retry,omitempty"`
	RateLimit *LocalRateLimit  `json:"rateLimit,omitempty"`
	Policies  []PolicyDecision `json:"policies,omitempty"`
}

type Mirror struct {
	Cluster string `json:"cluster,omitempty"`
	// Percent is in [0, 100].
	Percent float64 `json:"percent,omitempty"`
}

type Redirect struct {
	Scheme string `json:"scheme,omitempty"`
	Host   string `json:"host,omitempty"`
	// Port is 0 to keep the request's port.
	Port            uint32 `json:"port,omitempty"`
	StatusCode      uint32 `json:"statusCode,omitempty"`
	PrefixRewrite   string `json:"prefixRewrite,omitempty"`
	FullPathRewrite string `json:"fullPathRewrite,omitempty"`
	StripQuery      bool   `json:"stripQuery,omitempty"`
}

type DirectResponse struct {
	Status uint32 `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
}

// TCPProxy forwards connections to weighted clusters.
type TCPProxy struct {
	StatPrefix string            `json:"statPrefix,omitempty"`
	Clusters   []WeightedCluster `json:"clusters,omitempty"`
	AccessLogs []AccessLog       `json:"accessLogs,omitempty"`
	// MaxConnectAttempts is 0 for Envoy's default (1); IdleTimeout 0 for Envoy's (1 h).
	MaxConnectAttempts uint32           `json:"maxConnectAttempts,omitempty"`
	IdleTimeout        time.Duration    `json:"idleTimeout,omitempty"`
	Policies           []PolicyDecision `json:"policies,omitempty"`
}

type ClusterProtocol string

const (
	ClusterTCP   ClusterProtocol = "tcp"
	ClusterHTTP  ClusterProtocol = "http"
	ClusterHTTP2 ClusterProtocol = "http2"
)

// Cluster is a mesh service (EDS), the local application behind an inbound (STATIC), an
// external service or log sink (STRICT_DNS), or the passthrough (ORIGINAL_DST).
type Cluster struct {
	Name    string      `json:"name,omitempty"`
	Type    ClusterType `json:"type,omitempty"`
	Service string      `json:"service,omitempty"`
	// Mesh is the mesh of the destination when it is not the dataplane's own (a cross-mesh
	// gateway); empty otherwise.
	Mesh string `json:"mesh,omitempty"`
	// Destination is the backend's tag selector (kuma.io/service plus subset tags).
	Destination map[string]string `json:"destination,omitempty"`
	Protocol    ClusterProtocol   `json:"protocol,omitempty"`
	// DefaultHTTP2Windows keeps Envoy's own HTTP/2 flow-control windows on an http2 cluster
	// instead of the 64 KiB per stream / 1 MiB per connection the translator otherwise gives
	// upstream HTTP/2: a sidecar's clusters to mesh services, which Kuma leaves at the defaults.
	DefaultHTTP2Windows bool `json:"defaultHTTP2Windows,omitempty"`
	// Endpoints are IP addresses for EDS and STATIC clusters, hostnames for STRICT_DNS.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// At most one of MTLS (a mesh service) and TLS (an external service) is set.
	MTLS *UpstreamMTLS `json:"mtls,omitempty"`
	TLS  *UpstreamTLS  `json:"tls,omitempty"`
	// ConnectTimeout is 0 for the translator's default.
	ConnectTimeout time.Duration `json:"connectTimeout,omitempty"`
	// BindAddress is the local source address of upstream connections (upstream_bind_config);
	// the inbound passthrough, and with transparent proxying the local application on an
	// address other than 127.0.0.1 or ::1, use 127.0.0.6 (::6), which transparent-proxy
	// iptables rules exempt from redirection so the connection is not sent back to Envoy.
	BindAddress string `json:"bindAddress,omitempty"`
	// Policy settings chosen for this destination (docs/kuma-compatibility.md#policy-matching per-destination choice).
	CircuitBreaker *CircuitBreaker  `json:"circuitBreaker,omitempty"`
	HealthChecks   []HealthCheck    `json:"healthChecks,omitempty"`
	Timeouts       *ClusterTimeouts `json:"timeouts,omitempty"`
	Policies       []PolicyDecision `json:"policies,omitempty"`
}

type Endpoint struct {
	Address string `json:"address,omitempty"`
	Port    uint32 `json:"port,omitempty"`
	Weight  uint32 `json:"weight,omitempty"`
	// Tags are the endpoint's inbound tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Zone is the endpoint's locality zone: empty for the local zone, the remote zone's name
	// for an endpoint that is another zone's ZoneIngress.
	Zone string `json:"zone,omitempty"`
	// Priority is Envoy's locality priority: 0 (local) is used first, 1 (other zones' ingresses)
	// only when priority 0 has no healthy endpoint.
	Priority uint32 `json:"priority,omitempty"`
}

// UpstreamMTLS references, by name only, the secrets the CA delivers over SDS.
type UpstreamMTLS struct {
	IdentitySecret   string `json:"identitySecret,omitempty"`
	ValidationSecret string `json:"validationSecret,omitempty"`
	SNI              string `json:"sni,omitempty"`
	// SAN is the SPIFFE ID the upstream must present.
	SAN  string   `json:"san,omitempty"`
	ALPN []string `json:"alpn,omitempty"`
	// IdentityProvider and ValidationProvider replace the secrets on a proxyless dataplane.
	IdentityProvider   string `json:"identityProvider,omitempty"`
	ValidationProvider string `json:"validationProvider,omitempty"`
}

// Secret is either a certificate with its key (a listener's server certificate, a mesh
// identity) or, with TrustedCA, a trust bundle to validate peers against.
type Secret struct {
	Name             string `json:"name,omitempty"`
	CertificateChain string `json:"certificateChain,omitempty"`
	PrivateKey       string `json:"privateKey,omitempty"`
	TrustedCA        string `json:"trustedCA,omitempty"`
	// SPIFFETrustDomains makes the secret Envoy's SPIFFE certificate validator: each trusted
	// trust domain (a mesh name) maps to its PEM bundle, and a client is checked against the
	// bundle of the trust domain in its own URI SAN, never another mesh's CA. Delivered over
	// SDS, so a CA rotation re-sends this secret and not the listeners that use it.
	SPIFFETrustDomains map[string]string `json:"spiffeTrustDomains,omitempty"`
}
