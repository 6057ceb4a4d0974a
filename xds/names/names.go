// Package names decides, once and readably, every name meshgate gives an Envoy resource. Names
// never carry hash suffixes: an operator reading Envoy's admin page or stats must be able to
// tell which resource produced which object. Listener, route-configuration and secret names
// follow Kuma's (dashboards depend on them); cluster names are the readable destination.
//
// Build, translate and explain take names from here rather than concatenating them, so a name
// changes in one place. Tag keys (`kuma.io/service`, ...) are api/v1alpha1's and the node id is
// api.NodeID: model and crossmesh need them and import nothing under xds/. The keys of the
// metadata meshgate records on Envoy resources live here too (MetadataNamespace, RouteOrigin's
// EncodeRouteOrigin/DecodeRouteOrigin pair), so what translate writes is what explain reads.
package names

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
)

// Node is the Envoy node id of a dataplane (api.NodeID decides it; model checks it is unique).
func Node(mesh, dataplane string) string { return api.NodeID(mesh, dataplane) }

// Listener names a gateway listener: `edge-gateway:HTTP:8080`.
func Listener(gateway, protocol string, port uint32) string {
	return fmt.Sprintf("%s:%s:%d", gateway, protocol, port)
}

// RouteConfig names the route configuration of one filter chain: `edge-gateway:HTTP:8080:*`,
// `edge-gateway:HTTPS:8443:foo.example.com`.
func RouteConfig(listener, hostname string) string {
	return listener + ":" + Hostname(hostname)
}

// FilterChain names the filter chain serving hostname on a listener.
func FilterChain(listener, hostname string) string {
	return listener + ":" + Hostname(hostname)
}

// Hostname is a listener hostname with Kuma's "empty means any" applied.
func Hostname(h string) string {
	if h == "" {
		return "*"
	}
	return h
}

// Cluster names the cluster for a destination: the service, then any subset tags sorted by
// key: `api`, `api{version=v1}`.
func Cluster(destination map[string]string) string {
	svc := destination[api.ServiceTag]
	extra := TagString(destination, api.ServiceTag)
	if extra == "" {
		return svc
	}
	return svc + "{" + extra + "}"
}

// TagString renders tags as `k=v,k2=v2` sorted by key, leaving out the keys in skip.
func TagString(tags map[string]string, skip ...string) string {
	keys := make([]string, 0, len(tags))
outer:
	for k := range tags {
		for _, s := range skip {
			if k == s {
				continue outer
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ",")
}

// Route names an Envoy route built from one match of one MeshGatewayRoute rule.
func Route(route string, rule, match int) string {
	return fmt.Sprintf("%s/rules[%d]/matches[%d]", route, rule, match)
}

// RouteExact names the exact-path route synthesised from a prefix match (`/api` next to `/api/`).
func RouteExact(route string, rule, match int) string {
	return Route(route, rule, match) + "/exact"
}

// NotFoundRoute names the catch-all 404 route of a virtual host without routes.
const NotFoundRoute = "no-matching-route"

// NotFoundBody is the body of that 404, as Kuma sends it (clients and tests match on it).
const NotFoundBody = "This is a Kuma MeshGateway. No routes match this MeshGateway!\n"

// ServerCertSecret names a listener certificate secret: `cert.rsa:secret:foo-cert`. source is
// `secret`, `file`, `inline` or `inlineString`; id the secret name, file path or hostnames.
func ServerCertSecret(keyType, source, id string) string {
	return fmt.Sprintf("cert.%s:%s:%s", keyType, source, id)
}

// IdentitySecret names a mesh's workload identity (SVID) secret.
func IdentitySecret(mesh string) string { return "identity_cert:secret:" + mesh }

// MeshCASecret names a mesh's trust bundle secret.
func MeshCASecret(mesh string) string { return "mesh_ca:secret:" + mesh }

// UpstreamSNI is the SNI a client presents to a mesh service: `api{mesh=default,version=v1}`.
func UpstreamSNI(mesh string, destination map[string]string) string {
	tags := make(map[string]string, len(destination))
	for k, v := range destination {
		tags[k] = v
	}
	tags["mesh"] = mesh
	return destination[api.ServiceTag] + "{" + TagString(tags, api.ServiceTag) + "}"
}

// ServiceID is the SPIFFE ID of a mesh service: `spiffe://<mesh>/<service>`. certs decides
// it, so the SAN a cluster checks is the one the CA writes.
func ServiceID(mesh, service string) (spiffeid.ID, error) { return certs.ServiceID(mesh, service) }

// CrossMeshValidationSecret names the SPIFFE validator of cross-mesh listeners: one trust
// domain per mTLS mesh. Kuma's name (where it was one merged bundle), so dashboards still find it.
const CrossMeshValidationSecret = "mesh_ca:secret:all"

// MeshALPN is the ALPN mesh mTLS connections negotiate.
const MeshALPN = "kuma"

// TagsHeader carries the gateway's tags to mesh services.
const TagsHeader = "x-kuma-tags"

// TagsHeaderValue serialises tags Kuma's way: `&k=v&k2=v2&`, keys sorted.
func TagsHeaderValue(tags map[string]string) string {
	s := TagString(tags)
	if s == "" {
		return ""
	}
	return "&" + strings.ReplaceAll(s, ",", "&") + "&"
}

// TagsHeaderRegex matches an x-kuma-tags value that carries the tag key=value (any value of
// key for `*`): Envoy matches a safe_regex against the whole header, hence `.*` on both sides.
// Values match exactly, between the `&` delimiters.
func TagsHeaderRegex(key, value string) string {
	v := regexp.QuoteMeta(value)
	if value == "*" {
		v = "[^&]*"
	}
	return ".*&" + regexp.QuoteMeta(key) + "=" + v + "&.*"
}

// MetadataNamespace is the filter-metadata key under which meshgate records, on Envoy routes
// and clusters, which resource produced them; `explain` reads it back.
const MetadataNamespace = "io.meshgate"

// InboundListener names a sidecar inbound listener: `inbound:10.0.0.1:8080`, as Kuma does.
func InboundListener(address string, port uint32) string {
	return fmt.Sprintf("inbound:%s:%d", address, port)
}

// OutboundListener names a sidecar outbound listener: `outbound:240.0.0.3:80`.
func OutboundListener(address string, port uint32) string {
	return fmt.Sprintf("outbound:%s:%d", address, port)
}

// InboundRoute names the route of an HTTP inbound that forwards every request to the
// application.
const InboundRoute = "inbound"

// OutboundRoute names the route of an HTTP outbound that forwards every request to the
// destination's cluster.
const OutboundRoute = "outbound"

// InboundRateLimitRoute names the route of an HTTP inbound that rate-limits the requests of one
// source selector of a RateLimit: `inbound/backend-limit/sources[0]`.
func InboundRateLimitRoute(policy string, source int) string {
	return fmt.Sprintf("%s/%s/sources[%d]", InboundRoute, policy, source)
}

// RBACStatPrefix is the stat prefix of a listener's RBAC filter, `inbound:10.0.0.1:8080.`, so
// its allowed/denied counters are found under the listener's name.
func RBACStatPrefix(listener string) string { return listener + "." }

// InboundRouteConfig names the route configuration of an HTTP inbound: `inbound:backend`.
func InboundRouteConfig(service string) string { return "inbound:" + service }

// InboundRouteConfigOnPort names the route configuration of a second HTTP inbound of one
// service, `inbound:backend:8081`: Kuma's name is per service, Envoy's must be unique.
func InboundRouteConfigOnPort(service string, port uint32) string {
	return fmt.Sprintf("%s:%d", InboundRouteConfig(service), port)
}

// Plaintext names the plain-text twin of an mTLS filter chain or route configuration of a
// PERMISSIVE mesh: `inbound:10.0.0.1:8080:plaintext`.
func Plaintext(name string) string { return name + ":plaintext" }

// MeshIDPrefix is the prefix of every SPIFFE ID of a mesh, `spiffe://<mesh>/`: what an mTLS
// inbound requires of its client's URI SAN and what RBAC matches a mesh's callers on.
func MeshIDPrefix(mesh string) string { return certs.SPIFFEScheme + "://" + mesh + "/" }

// LocalCluster names the cluster of the application behind an inbound: `localhost:8080`.
func LocalCluster(port uint32) string { return fmt.Sprintf("localhost:%d", port) }

// Transparent-proxy redirect listeners and the passthrough clusters, named as in Kuma: one set
// per IP family.
const (
	OutboundPassthroughListener = "outbound:passthrough:ipv4"
	InboundPassthroughListener  = "inbound:passthrough:ipv4"
	PassthroughCluster          = "outbound:passthrough:ipv4"
	InboundPassthroughCluster   = "inbound:passthrough:ipv4"

	OutboundPassthroughListenerIPv6 = "outbound:passthrough:ipv6"
	InboundPassthroughListenerIPv6  = "inbound:passthrough:ipv6"
	PassthroughClusterIPv6          = "outbound:passthrough:ipv6"
	InboundPassthroughClusterIPv6   = "inbound:passthrough:ipv6"
)

// ClusterVariant names the cluster of a destination for a listener whose policies differ from
// the first listener's: the base name, then the applied policies' names, or `default` when none
// applies: `api[cb-1,hc-2]`, `api[default]`.
func ClusterVariant(base string, applied []string) string {
	if len(applied) == 0 {
		return base + "[default]"
	}
	return base + "[" + strings.Join(applied, ",") + "]"
}

// UnresolvedBackend is the cluster name Kuma keeps for a backend that matched no service. No
// cluster of that name exists on purpose: Envoy answers such requests with the route's
// cluster_not_found_response_code (500) while the rest of the route table keeps working.
const UnresolvedBackend = "kuma.io/unresolved-backend"

// CrossMeshCluster names the cluster of a destination in another mesh: `edge-gateway_other`
// (Kuma's `<cluster>_<mesh>`), so one mesh's `api` never shares a cluster with another's.
func CrossMeshCluster(destination map[string]string, mesh string) string {
	return Cluster(destination) + "_" + mesh
}

// AccessLogCluster names the cluster of a TCP logging backend: `access_log_sink:logstash`.
func AccessLogCluster(backend string) string { return "access_log_sink:" + backend }

// PoliciesMetadataKey is the key, inside the MetadataNamespace filter metadata of a cluster, a
// route or a TCP filter chain, of the policy decisions that shaped it: a list of structs
// {kind, applied, note, lost: [{name, reason}]}, absent when no policy was considered.
const PoliciesMetadataKey = "policies"

// ZoneIngressNode is the node id of a ZoneIngress's Envoy: `.<name>`, the dataplane form with
// no mesh, since one ingress serves every mesh of its zone.
func ZoneIngressNode(name string) string { return api.NodeID("", name) }

// ZoneIngressCluster names an ingress's cluster of one mesh's service: `default:api` (Kuma's
// `<mesh>:<service>`), so two meshes' `api` never share one.
func ZoneIngressCluster(mesh, service string) string { return mesh + ":" + service }
