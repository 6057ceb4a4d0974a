package explain

import "fmt"

// Result is how Envoy would handle one request. Its JSON form is the `meshgate explain -o json`
// contract: field names are stable, new fields are only ever added.
type Result struct {
	Listener    string      `json:"listener"`
	FilterChain string      `json:"filterChain,omitempty"`
	Connection  *Connection `json:"connection,omitempty"`
	// Filters are the chain's network filters in order; HTTPFilters the connection manager's.
	Filters     []string `json:"filters,omitempty"`
	HTTPFilters []string `json:"httpFilters,omitempty"`
	// ConnectionLimit is the chain's connection_limit: beyond it Envoy closes new connections.
	ConnectionLimit uint64 `json:"connectionLimit,omitempty"`
	RouteConfig     string `json:"routeConfig,omitempty"`
	VirtualHost     string `json:"virtualHost,omitempty"`
	// Route is the MeshGatewayRoute behind the matched Envoy route; nil when that route was not
	// produced from one (Envoy's own 404, the generated catch-all).
	Route      *RouteRef `json:"route,omitempty"`
	EnvoyRoute string    `json:"envoyRoute,omitempty"`
	Match      *Match    `json:"match,omitempty"`
	Action     *Action   `json:"action,omitempty"`
	// PerFilterConfig names the HTTP filters configured per route for this request (route,
	// virtual host, route configuration and backend levels): the policies that apply.
	PerFilterConfig []string `json:"perFilterConfig,omitempty"`
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
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}
