// Package ir is the readable, validated intermediate representation of one dataplane's
// configuration. xds/build produces it from the model; xds/translate turns it into Envoy
// resources and sees nothing else. Every slice is in its final order: translation never sorts.
package ir

import "time"

// Proxy is everything one dataplane receives.
type Proxy struct {
	// Node is the Envoy node id, `<mesh>.<name>`.
	Node      string
	Mesh      string
	Dataplane string
	Listeners []Listener
	Clusters  []Cluster
	// Secrets are server certificates the listeners reference by name. Mesh identity and CA
	// secrets are referenced by name only (see UpstreamMTLS) and delivered by the CA over SDS.
	Secrets []Secret
	// Diagnostics are problems that cost part of the configuration (a route that could not be
	// built, a gateway that matched nothing); the rest still ships.
	Diagnostics []Diagnostic
	// Offline is set when the proxy was built without a CA (`meshgate render`): listeners then
	// name the mesh identity and trust bundle secrets that only a running control plane
	// delivers, and validation does not require them to be in Secrets.
	Offline bool
}

// Diagnostic locates a problem in the resources: `MeshGatewayRoute default/r: conf.http...: message`.
type Diagnostic struct {
	Resource string
	Field    string
	Message  string
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
	Name     string
	Address  string
	Port     uint32
	Protocol Protocol
	// StatPrefix is the gateway's identifying service.
	StatPrefix string
	CrossMesh  bool
	// ConnectionLimit is 0 for unlimited.
	ConnectionLimit uint32
	FilterChains    []FilterChain
	// Direction is INBOUND when empty.
	Direction Direction
	// Virtual listeners do not bind (bind_to_port: false): the transparent-proxy redirect
	// listener hands them the connections whose original destination is their address:port.
	Virtual bool
	// UseOriginalDst makes this the redirect listener of a transparent proxy; its
	// DefaultChain serves connections no virtual listener claims.
	UseOriginalDst bool
	DefaultChain   *FilterChain
}

// FilterChain holds exactly one of HTTP and TCP.
type FilterChain struct {
	Name string
	// ServerNames is the SNI match; empty matches any SNI and none.
	ServerNames []string
	// TransportProtocolTLS matches only TLS connections (set for HTTPS and TLS listeners).
	TransportProtocolTLS bool
	// ApplicationProtocols is the ALPN match (`kuma` for cross-mesh listeners, which mesh
	// clients reach with that ALPN and no meaningful SNI); it needs TransportProtocolTLS.
	ApplicationProtocols []string
	// TLS terminates TLS; nil for plain text and for TLS passthrough.
	TLS *DownstreamTLS
	// RBAC, when set, admits only peers it allows (see RBAC).
	RBAC *RBAC
	HTTP *HTTPConnectionManager
	TCP  *TCPProxy
}

// DownstreamTLS presents either listener certificates or the mesh identity. With
// RequireClientCert it is mutual TLS and each client is checked against its own trust domain.
type DownstreamTLS struct {
	// CertificateSecrets name Secrets of this Proxy, in the order the listener declared them.
	CertificateSecrets []string
	// IdentitySecret names the mesh identity (SVID) secret presented instead, for mTLS
	// listeners; exactly one of it and CertificateSecrets is set.
	IdentitySecret string
	ALPN           []string
	MinVersion     string
	// RequireClientCert rejects clients without a certificate that ValidationSecret accepts.
	RequireClientCert bool
	// ValidationSecret names the secret (SDS) clients are validated against, required with
	// RequireClientCert. Either a mesh trust bundle (a sidecar inbound, which only its own mesh
	// may call), with SANPrefix (`spiffe://<mesh>/`) required of the client's URI SAN; or a
	// secret with SPIFFETrustDomains (a cross-mesh listener), without SANPrefix.
	ValidationSecret string
	SANPrefix        string
}

// HTTPConnectionManager carries its route configuration inline; translation emits it as RDS.
type HTTPConnectionManager struct {
	StatPrefix  string
	RouteConfig RouteConfig
	Options     HTTPOptions
	// ForwardClientCert replaces any incoming x-forwarded-client-cert with the verified client's
	// URI SAN, so backends learn the caller's SPIFFE ID and a client cannot forge it. Only
	// meaningful on a chain that requires client certificates.
	ForwardClientCert bool
	// Faults run before the router, in order (sidecar inbounds).
	Faults []Fault
	// Compression gzips responses for clients that accept it, except those carrying an ETag
	// (a compressed body would not match it): Kuma's builtin gateway filter, before the router.
	Compression bool
	AccessLogs  []AccessLog
	// Sidecar connection managers (inbound, outbound) skip the gateway's edge settings in
	// Options and keep Envoy's defaults, as Kuma's sidecars do.
	Sidecar bool
	// StreamIdleTimeout is a sidecar connection manager's stream_idle_timeout (a gateway's is
	// in Options); 0 keeps Envoy's 5 minutes.
	StreamIdleTimeout time.Duration
}

// HTTPOptions are the edge settings of an HTTP connection manager (Envoy's edge best practices).
type HTTPOptions struct {
	ServerName            string
	RequestHeadersTimeout time.Duration
	StreamIdleTimeout     time.Duration
	IdleTimeout           time.Duration
	MaxConcurrentStreams  uint32
	InitialStreamWindow   uint32
	InitialConnWindow     uint32
	// InternalAddresses are the CIDRs treated as internal by use_remote_address.
	InternalAddresses []string
}

type RouteConfig struct {
	Name         string
	VirtualHosts []VirtualHost
	// RequestHeadersToRemove are stripped from every request before routing.
	RequestHeadersToRemove []string
}

type VirtualHost struct {
	Name    string
	Domains []string
	// RequireTLS redirects plain-text requests (HTTPS listeners).
	RequireTLS           bool
	ResponseHeadersToAdd []Header
	Routes               []Route
}

type Header struct {
	Name  string
	Value string
}

// HeaderMutation is a set of header changes; Set overwrites, Add appends.
type HeaderMutation struct {
	Set    []Header
	Add    []Header
	Remove []string
}

// IsEmpty reports whether the mutation changes nothing.
func (h HeaderMutation) IsEmpty() bool {
	return len(h.Set) == 0 && len(h.Add) == 0 && len(h.Remove) == 0
}

// Route is one Envoy route; exactly one of Forward, Redirect and DirectResponse is set.
type Route struct {
	// Name is readable and unique within its virtual host: `<route>/rules[i]/matches[j]`.
	Name string
	// Origin is the MeshGatewayRoute rule this route comes from; nil for generated routes (404).
	Origin          *RouteOrigin
	Match           RouteMatch
	RequestHeaders  HeaderMutation
	ResponseHeaders HeaderMutation
	Forward         *Forward
	Redirect        *Redirect
	DirectResponse  *DirectResponse
}

// RouteOrigin points back at the resource: the MeshGatewayRoute, rule and match indexes.
type RouteOrigin struct {
	Mesh  string
	Route string
	Rule  int
	Match int
}

type PathKind string

const (
	PathExact  PathKind = "Exact"
	PathPrefix PathKind = "Prefix"
	PathRegex  PathKind = "Regex"
)

type PathMatch struct {
	Kind  PathKind
	Value string
}

type HeaderMatchKind string

const (
	HeaderExact   HeaderMatchKind = "Exact"
	HeaderRegex   HeaderMatchKind = "Regex"
	HeaderPresent HeaderMatchKind = "Present"
	HeaderAbsent  HeaderMatchKind = "Absent"
)

type HeaderMatch struct {
	Name  string
	Kind  HeaderMatchKind
	Value string
}

type QueryMatchKind string

const (
	QueryExact QueryMatchKind = "Exact"
	QueryRegex QueryMatchKind = "Regex"
)

type QueryMatch struct {
	Name  string
	Kind  QueryMatchKind
	Value string
}

// RouteMatch is ANDed: path, then method (as a `:method` header match), headers and query.
type RouteMatch struct {
	Path    PathMatch
	Method  string
	Headers []HeaderMatch
	Query   []QueryMatch
}

type WeightedCluster struct {
	Name   string
	Weight uint32
	// RequestHeadersToAdd are added to requests sent to this cluster (e.g. x-kuma-tags).
	RequestHeadersToAdd []Header
}

type Forward struct {
	Clusters []WeightedCluster
	// PrefixRewrite replaces the matched prefix; FullPathRewrite replaces the whole path.
	PrefixRewrite   string
	FullPathRewrite string
	// HostRewrite sets the Host header to a literal; AutoHostRewrite to the backend's hostname.
	HostRewrite     string
	AutoHostRewrite bool
	Mirrors         []Mirror
	// Timeout is the route's request timeout; 0 leaves Envoy's default of 15 s unless
	// NoTimeout turns it off (Envoy's `timeout: 0s`), as Kuma's sidecar defaults do.
	Timeout     time.Duration
	NoTimeout   bool
	IdleTimeout time.Duration
	// Route-level policy choices (spec §7.1): retry, local rate limit, and what decided them.
	Retry     *RetryPolicy
	RateLimit *LocalRateLimit
	Policies  []PolicyDecision
}

type Mirror struct {
	Cluster string
	// Percent is in [0, 100].
	Percent float64
}

type Redirect struct {
	Scheme string
	Host   string
	// Port is 0 to keep the request's port.
	Port            uint32
	StatusCode      uint32
	PrefixRewrite   string
	FullPathRewrite string
	StripQuery      bool
}

type DirectResponse struct {
	Status uint32
	Body   string
}

// TCPProxy forwards connections to weighted clusters.
type TCPProxy struct {
	StatPrefix string
	Clusters   []WeightedCluster
	AccessLogs []AccessLog
	// MaxConnectAttempts is 0 for Envoy's default (1); IdleTimeout 0 for Envoy's (1 h).
	MaxConnectAttempts uint32
	IdleTimeout        time.Duration
	Policies           []PolicyDecision
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
	Name    string
	Type    ClusterType
	Service string
	// Mesh is the mesh of the destination when it is not the dataplane's own (a cross-mesh
	// gateway); empty otherwise.
	Mesh string
	// Destination is the backend's tag selector (kuma.io/service plus subset tags).
	Destination map[string]string
	Protocol    ClusterProtocol
	// DefaultHTTP2Windows keeps Envoy's own HTTP/2 flow-control windows on an http2 cluster
	// instead of the 64 KiB per stream / 1 MiB per connection the translator otherwise gives
	// upstream HTTP/2: a sidecar's clusters to mesh services, which Kuma leaves at the defaults.
	DefaultHTTP2Windows bool
	// Endpoints are IP addresses for EDS and STATIC clusters, hostnames for STRICT_DNS.
	Endpoints []Endpoint
	// At most one of MTLS (a mesh service) and TLS (an external service) is set.
	MTLS *UpstreamMTLS
	TLS  *UpstreamTLS
	// ConnectTimeout is 0 for the translator's default.
	ConnectTimeout time.Duration
	// BindAddress is the local source address of upstream connections (upstream_bind_config);
	// the inbound passthrough, and with transparent proxying the local application on an
	// address other than 127.0.0.1 or ::1, use 127.0.0.6 (::6), which transparent-proxy
	// iptables rules exempt from redirection so the connection is not sent back to Envoy.
	BindAddress string
	// Policy settings chosen for this destination (spec §7.1 per-destination choice).
	CircuitBreaker *CircuitBreaker
	HealthChecks   []HealthCheck
	Timeouts       *ClusterTimeouts
	Policies       []PolicyDecision
}

type Endpoint struct {
	Address string
	Port    uint32
	Weight  uint32
	// Tags are the endpoint's inbound tags.
	Tags map[string]string
}

// UpstreamMTLS references, by name only, the secrets the CA delivers over SDS.
type UpstreamMTLS struct {
	IdentitySecret   string
	ValidationSecret string
	SNI              string
	// SAN is the SPIFFE ID the upstream must present.
	SAN  string
	ALPN []string
}

// Secret is either a certificate with its key (a listener's server certificate, a mesh
// identity) or, with TrustedCA, a trust bundle to validate peers against.
type Secret struct {
	Name             string
	CertificateChain string
	PrivateKey       string
	TrustedCA        string
	// SPIFFETrustDomains makes the secret Envoy's SPIFFE certificate validator: each trusted
	// trust domain (a mesh name) maps to its PEM bundle, and a client is checked against the
	// bundle of the trust domain in its own URI SAN, never another mesh's CA. Delivered over
	// SDS, so a CA rotation re-sends this secret and not the listeners that use it.
	SPIFFETrustDomains map[string]string
}
