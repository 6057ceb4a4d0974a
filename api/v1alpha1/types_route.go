package v1alpha1

// MeshGatewayRoute routes traffic from the gateway listeners its selectors match to mesh services.
type MeshGatewayRoute struct {
	Meta `json:"-"`
	Spec MeshGatewayRouteSpec
}

type MeshGatewayRouteSpec struct {
	Selectors []Selector `json:"selectors"`
	Conf      *RouteConf `json:"conf"`
}

// RouteConf holds exactly one of TCP or HTTP.
type RouteConf struct {
	TCP  *TCPRoute  `json:"tcp,omitempty"`
	HTTP *HTTPRoute `json:"http,omitempty"`
}

type TCPRoute struct {
	Rules []TCPRule `json:"rules"`
}

type TCPRule struct {
	Backends []Backend `json:"backends"`
}

type Backend struct {
	// Weight is 1 when unset; 0 sends the backend no traffic.
	Weight      *uint32           `json:"weight,omitempty"`
	Destination map[string]string `json:"destination"`
}

// EffectiveWeight is the backend's weight with meshgate's default of 1 applied.
func (b Backend) EffectiveWeight() uint32 {
	if b.Weight == nil {
		return 1
	}
	return *b.Weight
}

type HTTPRoute struct {
	Hostnames []string   `json:"hostnames,omitempty"`
	Rules     []HTTPRule `json:"rules"`
}

type HTTPRule struct {
	Matches  []HTTPMatch  `json:"matches"`
	Filters  []HTTPFilter `json:"filters,omitempty"`
	Backends []Backend    `json:"backends,omitempty"`
}

type PathMatchType string

const (
	PathExact  PathMatchType = "EXACT"
	PathPrefix PathMatchType = "PREFIX"
	PathRegex  PathMatchType = "REGEX"
)

type HeaderMatchType string

const (
	HeaderExact   HeaderMatchType = "EXACT"
	HeaderRegex   HeaderMatchType = "REGEX"
	HeaderAbsent  HeaderMatchType = "ABSENT"
	HeaderPresent HeaderMatchType = "PRESENT"
)

type QueryMatchType string

const (
	QueryExact QueryMatchType = "EXACT"
	QueryRegex QueryMatchType = "REGEX"
)

type HTTPMatch struct {
	Path            *PathMatch    `json:"path,omitempty"`
	Method          string        `json:"method,omitempty"`
	Headers         []HeaderMatch `json:"headers,omitempty"`
	QueryParameters []QueryMatch  `json:"queryParameters,omitempty"`
}

type PathMatch struct {
	// Match is EXACT when empty, as in Kuma's proto.
	Match PathMatchType `json:"match,omitempty"`
	Value string        `json:"value"`
}

// Type returns the match type with Kuma's default applied.
func (p PathMatch) Type() PathMatchType {
	if p.Match == "" {
		return PathExact
	}
	return p.Match
}

type HeaderMatch struct {
	Match HeaderMatchType `json:"match,omitempty"`
	Name  string          `json:"name"`
	Value string          `json:"value,omitempty"`
}

func (h HeaderMatch) Type() HeaderMatchType {
	if h.Match == "" {
		return HeaderExact
	}
	return h.Match
}

type QueryMatch struct {
	Match QueryMatchType `json:"match,omitempty"`
	Name  string         `json:"name"`
	Value string         `json:"value"`
}

func (q QueryMatch) Type() QueryMatchType {
	if q.Match == "" {
		return QueryExact
	}
	return q.Match
}

// HTTPFilter holds exactly one filter.
type HTTPFilter struct {
	RequestHeader  *HeaderFilter `json:"requestHeader,omitempty"`
	ResponseHeader *HeaderFilter `json:"responseHeader,omitempty"`
	Mirror         *Mirror       `json:"mirror,omitempty"`
	Redirect       *Redirect     `json:"redirect,omitempty"`
	Rewrite        *Rewrite      `json:"rewrite,omitempty"`
}

type HeaderFilter struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type Mirror struct {
	Backend    Backend  `json:"backend"`
	Percentage *float64 `json:"percentage"`
}

type Redirect struct {
	Scheme     string   `json:"scheme,omitempty"`
	Hostname   string   `json:"hostname,omitempty"`
	Port       uint32   `json:"port,omitempty"`
	StatusCode uint32   `json:"statusCode,omitempty"`
	Path       *Rewrite `json:"path,omitempty"`
}

// Rewrite holds at most one of ReplaceFull and ReplacePrefixMatch.
type Rewrite struct {
	ReplaceFull           string `json:"replaceFull,omitempty"`
	ReplacePrefixMatch    string `json:"replacePrefixMatch,omitempty"`
	HostToBackendHostname bool   `json:"hostToBackendHostname,omitempty"`
}
