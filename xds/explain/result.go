package explain

import "fmt"

// Result is how Envoy would handle one request. Its JSON form is the `meshgate explain -o json`
// contract: field names are stable, new fields are only ever added.
type Result struct {
	Listener string `json:"listener"`
	// Outbound: the listener's traffic_direction is OUTBOUND (a sidecar's way out).
	Outbound    bool        `json:"outbound,omitempty"`
	FilterChain string      `json:"filterChain,omitempty"`
	Connection  *Connection `json:"connection,omitempty"`
	// TLS is the chain's client certificate check, when it requires one.
	TLS *TLSCheck `json:"tls,omitempty"`
	// RBAC are the chain's network RBAC filters' decisions, in filter order.
	RBAC []RBACCheck `json:"rbac,omitempty"`
	// Filters are the chain's network filters in order; HTTPFilters the connection manager's.
	Filters     []string `json:"filters,omitempty"`
	HTTPFilters []string `json:"httpFilters,omitempty"`
	// ConnectionLimit is the chain's connection_limit: beyond it Envoy closes new connections.
	ConnectionLimit uint64 `json:"connectionLimit,omitempty"`
	// Faults are the connection manager's fault filters, each applying to the request or not.
	Faults      []Fault `json:"faults,omitempty"`
	RouteConfig string  `json:"routeConfig,omitempty"`
	VirtualHost string  `json:"virtualHost,omitempty"`
	// Route is the MeshGatewayRoute behind the matched Envoy route; nil when that route was not
	// produced from one (Envoy's own 404, the generated catch-all).
	Route      *RouteRef `json:"route,omitempty"`
	EnvoyRoute string    `json:"envoyRoute,omitempty"`
	Match      *Match    `json:"match,omitempty"`
	Action     *Action   `json:"action,omitempty"`
	// PerFilterConfig names the HTTP filters configured per route for this request (route,
	// virtual host, route configuration and backend levels): the policies that apply.
	PerFilterConfig []string `json:"perFilterConfig,omitempty"`
	// Policies are the connection policy decisions recorded on the matched route (or, for a
	// TCP proxy, on the filter chain): which policy of each kind applied, which lost and why,
	// and the kinds that select the proxy but are ignored.
	Policies []Policy `json:"policies,omitempty"`
	// Reason says why nothing matched, or why Envoy answered on its own.
	Reason string `json:"reason,omitempty"`
	// Notes are caveats: request properties explain had to assume, configuration it does not
	// interpret, and consequences worth knowing (a backend without endpoints).
	Notes []string `json:"notes,omitempty"`
}

// Connection is the connection as the listener saw it.
type Connection struct {
	TLS  bool     `json:"tls"`
	SNI  string   `json:"sni,omitempty"`
	ALPN []string `json:"alpn,omitempty"`
}

// RouteRef identifies the MeshGatewayRoute rule and match that produced the Envoy route.
type RouteRef struct {
	Name       string `json:"name"`
	Mesh       string `json:"mesh"`
	Rule       int    `json:"rule"`
	Match      int    `json:"match"`
	EnvoyRoute string `json:"envoyRoute"`
}

// Match describes the Envoy route match that selected the route.
type Match struct {
	Prefix              *string       `json:"prefix,omitempty"`
	Path                *string       `json:"path,omitempty"`
	Regex               *string       `json:"regex,omitempty"`
	PathSeparatedPrefix *string       `json:"pathSeparatedPrefix,omitempty"`
	Connect             bool          `json:"connect,omitempty"`
	IgnoreCase          bool          `json:"ignoreCase,omitempty"`
	Grpc                bool          `json:"grpc,omitempty"`
	Headers             []HeaderMatch `json:"headers,omitempty"`
	QueryParameters     []QueryMatch  `json:"queryParameters,omitempty"`
	Cookies             []CookieMatch `json:"cookies,omitempty"`
}

// StringMatch is one of Envoy's string matchers; exactly one pattern is set.
type StringMatch struct {
	Exact      *string `json:"exact,omitempty"`
	Prefix     *string `json:"prefix,omitempty"`
	Suffix     *string `json:"suffix,omitempty"`
	Contains   *string `json:"contains,omitempty"`
	Regex      *string `json:"regex,omitempty"`
	IgnoreCase bool    `json:"ignoreCase,omitempty"`
}

// HeaderMatch describes one header condition.
type HeaderMatch struct {
	Name string `json:"name"`
	StringMatch
	Present             *bool  `json:"present,omitempty"`
	Range               string `json:"range,omitempty"`
	Invert              bool   `json:"invert,omitempty"`
	TreatMissingAsEmpty bool   `json:"treatMissingAsEmpty,omitempty"`
}

// QueryMatch describes one query-parameter condition.
type QueryMatch struct {
	Name string `json:"name"`
	StringMatch
	Present *bool `json:"present,omitempty"`
}

// CookieMatch describes one cookie condition.
type CookieMatch struct {
	Name string `json:"name"`
	StringMatch
	Invert bool `json:"invert,omitempty"`
}

// Action is what Envoy does with the request: exactly one of Forward, Redirect,
// DirectResponse or Close; the rest qualifies a forward.
type Action struct {
	Forward        []Backend       `json:"forward,omitempty"`
	Redirect       *Redirect       `json:"redirect,omitempty"`
	DirectResponse *DirectResponse `json:"directResponse,omitempty"`
	// Close: Envoy closes the connection without a response.
	Close bool `json:"close,omitempty"`
	// Serve: the server itself handles the request (a proxyless gRPC server's
	// non_forwarding_action route).
	Serve bool `json:"serve,omitempty"`

	Rewrite *Rewrite `json:"rewrite,omitempty"`
	// UpstreamPath and UpstreamHost are :path and :authority as the backend receives them.
	UpstreamPath    string         `json:"upstreamPath,omitempty"`
	UpstreamHost    string         `json:"upstreamHost,omitempty"`
	RequestHeaders  *HeaderChanges `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderChanges `json:"responseHeaders,omitempty"`
	Mirrors         []Mirror       `json:"mirrors,omitempty"`
	Timeout         string         `json:"timeout,omitempty"`
	IdleTimeout     string         `json:"idleTimeout,omitempty"`
	Retry           *Retry         `json:"retry,omitempty"`
	// RateLimit is the route's local rate limit.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// MaxConnectAttempts is a TCP proxy's max_connect_attempts, when set (Envoy's default 1).
	MaxConnectAttempts uint32 `json:"maxConnectAttempts,omitempty"`
}

// Backend is one cluster a forward may pick, with its share of the traffic.
type Backend struct {
	Cluster     string            `json:"cluster"`
	Weight      uint32            `json:"weight"`
	Service     string            `json:"service,omitempty"`
	Destination map[string]string `json:"destination,omitempty"`
	// Endpoints counts the healthy endpoints Envoy knows for the cluster; nil when the
	// resources cannot tell (a DNS or original-destination cluster).
	Endpoints *int `json:"endpoints,omitempty"`
	// Missing: no cluster of that name exists. Status is what Envoy answers instead (HTTP).
	Missing bool `json:"missing,omitempty"`
	Status  int  `json:"status,omitempty"`
	// FromHeader names the request header the cluster name was taken from (cluster_header).
	FromHeader     string         `json:"fromHeader,omitempty"`
	RequestHeaders *HeaderChanges `json:"requestHeaders,omitempty"`
	// Type is the cluster's discovery type: EDS, STATIC, STRICT_DNS, ORIGINAL_DST...
	Type string `json:"type,omitempty"`
	// Addresses are the healthy endpoints as host:port (a DNS cluster's names unresolved),
	// as far as the resources tell.
	Addresses []string `json:"addresses,omitempty"`
	// SourceAddress is the local address upstream connections leave from (the cluster's
	// upstream_bind_config), when it sets one: 127.0.0.6 for an application reached on the
	// dataplane's own address under transparent proxying.
	SourceAddress string `json:"sourceAddress,omitempty"`
	// TLS is how the cluster originates TLS; nil for plaintext.
	TLS *UpstreamTLS `json:"tls,omitempty"`
	// Policies are the connection policy decisions recorded on the cluster; ClusterSettings
	// what they (or anything else) set on it.
	Policies []Policy `json:"policies,omitempty"`
	ClusterSettings
}

// UpstreamTLS is a cluster's TLS origination.
type UpstreamTLS struct {
	SNI  string   `json:"sni,omitempty"`
	ALPN []string `json:"alpn,omitempty"`
	// Identity names the client certificate presented: SDS secret names, or "inline".
	Identity []string `json:"identity,omitempty"`
	// Validation names where the trusted CAs come from: an SDS secret, or "inline".
	Validation string `json:"validation,omitempty"`
	// ServerSANs are the SANs the server certificate must carry (any one of them).
	ServerSANs []SANMatch `json:"serverSANs,omitempty"`
	// Verified is false when nothing validates the server certificate.
	Verified bool `json:"verified"`
}

// SANMatch is one subject alternative name matcher; Type is URI, DNS, EMAIL or IP_ADDRESS,
// empty for the deprecated type-less matchers.
type SANMatch struct {
	Type string `json:"type,omitempty"`
	StringMatch
}

// TLSCheck is the TLS handshake of a chain that requires a client certificate.
type TLSCheck struct {
	RequireClientCert bool `json:"requireClientCert"`
	// Identity names the server certificate: SDS secret names, or "inline".
	Identity []string `json:"identity,omitempty"`
	// Validation names where the trusted CAs come from: an SDS secret, or "inline".
	Validation string `json:"validation,omitempty"`
	// Validator is "spiffe" for Envoy's SPIFFE validator, whose TrustDomains each hold
	// their own bundle.
	Validator    string     `json:"validator,omitempty"`
	TrustDomains []string   `json:"trustDomains,omitempty"`
	SANs         []SANMatch `json:"sans,omitempty"`
	// Peer is the certificate's first URI SAN (its SPIFFE ID); PeerTrustDomain the trust
	// domain it was judged in.
	Peer            string `json:"peer,omitempty"`
	PeerTrustDomain string `json:"peerTrustDomain,omitempty"`
	Accepted        bool   `json:"accepted"`
	// Unchecked: the validation secret is not among the resources, so the trust domain could
	// not be checked.
	Unchecked bool   `json:"unchecked,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// RBACCheck is one network RBAC filter's decision.
type RBACCheck struct {
	// Action is the rules' action: ALLOW (a matching policy admits) or DENY.
	Action  string `json:"action"`
	Allowed bool   `json:"allowed"`
	// Policy is the policy that matched and Principal its principal that did.
	Policy    string `json:"policy,omitempty"`
	Principal string `json:"principal,omitempty"`
	// Considered are the policies, in the order Envoy evaluates them (by name).
	Considered []string `json:"considered,omitempty"`
	// Peer is the client certificate's first URI SAN.
	Peer string `json:"peer,omitempty"`
}

// Fault is one fault injection filter. Percentages are of the requests it applies to.
type Fault struct {
	Applies                  bool          `json:"applies"`
	Headers                  []HeaderMatch `json:"headers,omitempty"`
	Delay                    string        `json:"delay,omitempty"`
	DelayPercent             float64       `json:"delayPercent,omitempty"`
	Abort                    string        `json:"abort,omitempty"`
	AbortPercent             float64       `json:"abortPercent,omitempty"`
	ResponseRateLimitKbps    uint64        `json:"responseRateLimitKbps,omitempty"`
	ResponseRateLimitPercent float64       `json:"responseRateLimitPercent,omitempty"`
}

// Redirect is a redirect response; Location is the header Envoy sends.
type Redirect struct {
	Location      string        `json:"location"`
	StatusCode    int           `json:"statusCode"`
	Scheme        string        `json:"scheme,omitempty"`
	Host          string        `json:"host,omitempty"`
	Port          uint32        `json:"port,omitempty"`
	Path          string        `json:"path,omitempty"`
	PrefixRewrite string        `json:"prefixRewrite,omitempty"`
	RegexRewrite  *RegexRewrite `json:"regexRewrite,omitempty"`
	StripQuery    bool          `json:"stripQuery,omitempty"`
}

// DirectResponse is a response Envoy sends itself.
type DirectResponse struct {
	Status   int    `json:"status"`
	Body     string `json:"body,omitempty"`
	BodyFile string `json:"bodyFile,omitempty"`
}

// Rewrite lists the path and host rewrites of a forward.
type Rewrite struct {
	// Prefix replaces Replaces (the matched prefix or path) at the start of the path.
	Prefix   string        `json:"prefix,omitempty"`
	Replaces string        `json:"replaces,omitempty"`
	Regex    *RegexRewrite `json:"regex,omitempty"`
	// FullPath is path_rewrite: the whole path, substitution formatters left unevaluated.
	FullPath       string        `json:"fullPath,omitempty"`
	Host           string        `json:"host,omitempty"`
	AutoHost       bool          `json:"autoHost,omitempty"`
	HostFromHeader string        `json:"hostFromHeader,omitempty"`
	HostRegex      *RegexRewrite `json:"hostRegex,omitempty"`
}

// RegexRewrite is an Envoy regex_rewrite; Substitution uses RE2's \1 group syntax.
type RegexRewrite struct {
	Pattern      string `json:"pattern"`
	Substitution string `json:"substitution"`
}

// HeaderChanges are header mutations in the order Envoy applies them.
type HeaderChanges struct {
	Set    []HeaderValue `json:"set,omitempty"`
	Add    []HeaderValue `json:"add,omitempty"`
	Remove []string      `json:"remove,omitempty"`
}

// HeaderValue is one header mutation. IfAbsent (add) and IfPresent (set) are Envoy's
// ADD_IF_ABSENT and OVERWRITE_IF_EXISTS.
type HeaderValue struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	IfAbsent  bool   `json:"ifAbsent,omitempty"`
	IfPresent bool   `json:"ifPresent,omitempty"`
}

// Mirror is a request mirror (shadow) policy.
type Mirror struct {
	Cluster string  `json:"cluster"`
	Percent float64 `json:"percent"`
	Missing bool    `json:"missing,omitempty"`
}

// Retry is the retry policy in effect.
type Retry struct {
	RetryOn       string `json:"retryOn,omitempty"`
	NumRetries    uint32 `json:"numRetries"`
	PerTryTimeout string `json:"perTryTimeout,omitempty"`
	// RetriableStatusCodes and RetriableMethods narrow what is retried.
	RetriableStatusCodes []uint32 `json:"retriableStatusCodes,omitempty"`
	RetriableMethods     []string `json:"retriableMethods,omitempty"`
	// BaseInterval and MaxInterval are the retry back-off (Envoy's 25ms when unset).
	BaseInterval string `json:"baseInterval,omitempty"`
	MaxInterval  string `json:"maxInterval,omitempty"`
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}
