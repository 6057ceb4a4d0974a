package ir

import "time"

// Direction is Envoy's traffic_direction of a listener. Gateway listeners and a sidecar's
// inbound listeners are INBOUND; a sidecar's outbound listeners are OUTBOUND.
type Direction string

const (
	DirectionInbound  Direction = "INBOUND"
	DirectionOutbound Direction = "OUTBOUND"
)

// ClusterType is how Envoy finds a cluster's endpoints. The zero value is EDS.
type ClusterType string

const (
	// ClusterEDS endpoints arrive as a ClusterLoadAssignment over ADS.
	ClusterEDS ClusterType = ""
	// ClusterStatic endpoints (IP literals) are inlined in the cluster (the local application).
	ClusterStatic ClusterType = "STATIC"
	// ClusterStrictDNS endpoints are hostnames Envoy resolves (external services, log sinks).
	ClusterStrictDNS ClusterType = "STRICT_DNS"
	// ClusterOriginalDst forwards to the connection's original destination (transparent
	// proxy passthrough); it has no endpoints.
	ClusterOriginalDst ClusterType = "ORIGINAL_DST"
)

// UpstreamTLS originates TLS to a server outside the mesh (an ExternalService).
type UpstreamTLS struct {
	SNI string `json:"sni,omitempty"`
	// CA is a PEM bundle the server must chain to; empty trusts nothing extra and skips
	// verification (Kuma's behaviour without caCert), which Validate allows only when
	// AllowInsecure is set.
	CA            string `json:"ca,omitempty"`
	AllowInsecure bool   `json:"allowInsecure,omitempty"`
	// VerifySAN is the DNS SAN the server certificate must carry (exact); empty skips the check.
	VerifySAN string `json:"verifySAN,omitempty"`
	// ClientCertificate and ClientKey (PEM) present a client certificate; both or neither.
	ClientCertificate string   `json:"clientCertificate,omitempty"`
	ClientKey         string   `json:"clientKey,omitempty"`
	ALPN              []string `json:"alpn,omitempty"`
}

// RBAC admits a connection when any policy admits its peer; no policy admits nobody. It is
// Envoy's network RBAC filter (envoy.filters.network.rbac, action ALLOW), placed before the
// HTTP connection manager or TCP proxy, so it sees the verified client certificate.
type RBAC struct {
	// StatPrefix names the filter's stats (`<listener>.`).
	StatPrefix string `json:"statPrefix,omitempty"`
	// Policies are keyed by name in Envoy; names are unique and in order.
	Policies []RBACPolicy `json:"policies,omitempty"`
}

// RBACPolicy is one TrafficPermission: any of its principals admits the peer. Envoy's
// permission is always `any: true` (TrafficPermission authorizes callers, not requests).
type RBACPolicy struct {
	// Name is the TrafficPermission's name (Envoy's policy key); explain reports it.
	Name       string      `json:"name,omitempty"`
	Principals []Principal `json:"principals,omitempty"`
}

// Principal matches a peer whose certificate satisfies every matcher (Envoy and_ids of
// authenticated.principal_name). Envoy's principal_name is checked against each URI SAN of
// the peer, so `spiffe://mesh/web` and `kuma://version/v1` can both be required.
type Principal struct {
	URIs []SANMatch `json:"uris,omitempty"`
	// NotURIs must match no URI SAN of the peer. A cross-mesh listener trusts several CAs and
	// Envoy picks the bundle by the first URI SAN only, so a CA of mesh B could add
	// `spiffe://A/...` after its own ID; excluding every other trusted mesh's prefix closes that.
	NotURIs []SANMatch `json:"notURIs,omitempty"`
}

type SANMatchKind string

const (
	SANExact  SANMatchKind = "Exact"
	SANPrefix SANMatchKind = "Prefix"
	SANRegex  SANMatchKind = "Regex"
)

// SANMatch is one string matcher on a URI SAN.
type SANMatch struct {
	Kind  SANMatchKind `json:"kind,omitempty"`
	Value string       `json:"value,omitempty"`
}

// Fault is one FaultInjection on an HTTP inbound: an envoy.filters.http.fault filter, before
// the router, in the order given. It applies to requests whose x-kuma-tags header carries all
// of SourceTags (`&k=v&` each; a `*` value only requires the key), or to all requests when
// SourceTags is empty. At least one of Delay, Abort and ResponseBandwidth is set.
type Fault struct {
	// Name is the FaultInjection's name.
	Name              string            `json:"name,omitempty"`
	SourceTags        map[string]string `json:"sourceTags,omitempty"`
	Delay             *FaultDelay       `json:"delay,omitempty"`
	Abort             *FaultAbort       `json:"abort,omitempty"`
	ResponseBandwidth *FaultBandwidth   `json:"responseBandwidth,omitempty"`
}

type FaultDelay struct {
	// Percent is in [0, 100].
	Percent float64       `json:"percent,omitempty"`
	Value   time.Duration `json:"value,omitempty"`
}

type FaultAbort struct {
	Percent    float64 `json:"percent,omitempty"`
	HTTPStatus uint32  `json:"httpStatus,omitempty"`
}

type FaultBandwidth struct {
	Percent float64 `json:"percent,omitempty"`
	// LimitKbps is the response rate in KiB/s, as Envoy's fault filter counts it.
	LimitKbps uint64 `json:"limitKbps,omitempty"`
}

// AccessLog is one access log of an HTTP connection manager or TCP proxy: exactly one of Path
// (envoy.access_loggers.file) and TCP (envoy.access_loggers.fluentd to the cluster named by
// TCP.Cluster, which the Proxy must contain).
type AccessLog struct {
	// Backend names the Mesh logging backend, for explain and the Fluentd tag.
	Backend string      `json:"backend,omitempty"`
	Path    string      `json:"path,omitempty"`
	TCP     *TCPLogSink `json:"tcp,omitempty"`
	// Format is an Envoy format string; empty uses the Kuma default for the chain's protocol.
	Format string `json:"format,omitempty"`
}

type TCPLogSink struct {
	Cluster string `json:"cluster,omitempty"`
}
