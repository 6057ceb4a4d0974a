package build

import (
	"net"
	"regexp"
	"strconv"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// gatewayLogDestination is the pseudo-destination Kuma matches a gateway's TrafficLogs
// against: only a policy with a wildcard destination logs a gateway listener (docs/kuma-compatibility.md#policy-support).
var gatewayLogDestination = map[string]string{api.ServiceTag: "pass_through"}

// accessLogs are the logs of traffic from this dataplane to dest: the one best TrafficLog
// (docs/kuma-compatibility.md#policy-matching per-destination choice: highest source+destination rank, then the most recently
// created, then the first by name) sends to its backend.
func (b *builder) accessLogs(dest map[string]string, http bool) []ir.AccessLog {
	var (
		best     *api.TrafficLog
		bestRank model.Rank
	)
	for _, tl := range model.PoliciesOf[*api.TrafficLog](b.mesh, api.KindTrafficLog) {
		src, ok := b.sourceRank(tl.SourceSelectors())
		if !ok {
			continue
		}
		dst, ok := model.BestMatch(tl.DestinationSelectors(), dest)
		if !ok {
			continue
		}
		rank := src.Add(dst)
		if best == nil || rank.Compare(bestRank) > 0 ||
			(rank.Compare(bestRank) == 0 && tl.CreationTime.After(best.CreationTime)) {
			best, bestRank = tl, rank
		}
	}
	if best == nil {
		return nil
	}
	l, ok := b.logBackend(best, dest, http)
	if !ok {
		return nil
	}
	return []ir.AccessLog{l}
}

// sourceRank matches source selectors against this dataplane: its gateway tags, or any one of
// its inbounds (Kuma matches a policy source against each inbound).
func (b *builder) sourceRank(sels []map[string]string) (model.Rank, bool) {
	if g := b.dp.Spec.Networking.Gateway; g != nil {
		return model.BestMatch(sels, g.Tags)
	}
	var best model.Rank
	found := false
	for _, in := range b.dp.Spec.Networking.Inbound {
		if r, ok := model.BestMatch(sels, in.Tags); ok && (!found || r.Compare(best) > 0) {
			best, found = r, true
		}
	}
	if !found && len(b.dp.Spec.Networking.Inbound) == 0 {
		// A dataplane without inbounds still matches sources that only need a wildcard.
		return model.BestMatch(sels, map[string]string{api.ServiceTag: ""})
	}
	return best, found
}

// logBackend resolves the policy's backend on the Mesh; a TCP backend gets a log-sink cluster.
func (b *builder) logBackend(tl *api.TrafficLog, dest map[string]string, http bool) (ir.AccessLog, bool) {
	backend := b.mesh.Resource.Spec.Logging.Backend(tl.Backend())
	if backend == nil {
		b.diag(&tl.Meta, "conf.backend", "mesh %q has no logging backend %q (nor a default); nothing is logged", b.mesh.Name, tl.Backend())
		return ir.AccessLog{}, false
	}
	format := backend.Format
	if format == "" {
		format = kumaTCPLogFormat
		if http {
			format = kumaHTTPLogFormat
		}
	}
	l := ir.AccessLog{Backend: backend.Name, Format: b.logFormat(tl, format, dest)}
	switch backend.Type {
	case api.LoggingBackendFile:
		l.Path = backend.FilePath()
	case api.LoggingBackendTCP:
		host, portStr, err := net.SplitHostPort(backend.TCPAddress())
		port, perr := strconv.ParseUint(portStr, 10, 16)
		if err != nil || perr != nil || port == 0 {
			b.diag(&b.mesh.Resource.Meta, "logging.backends", "backend %q: address %q is not host:port; nothing is logged", backend.Name, backend.TCPAddress())
			return ir.AccessLog{}, false
		}
		cluster := names.AccessLogCluster(backend.Name)
		b.clusters[cluster] = &ir.Cluster{
			Name: cluster, Service: cluster, Type: ir.ClusterStrictDNS, Protocol: ir.ClusterTCP,
			Endpoints: []ir.Endpoint{{Address: host, Port: uint32(port), Weight: 1}},
		}
		l.TCP = &ir.TCPLogSink{Cluster: cluster}
	default:
		b.diag(&b.mesh.Resource.Meta, "logging.backends", "backend %q has unknown type %q; nothing is logged", backend.Name, backend.Type)
		return ir.AccessLog{}, false
	}
	return l, true
}

// Kuma's default access-log formats. Their %KUMA_*% operators are filled in per listener, so
// the log says which mesh, source and destination a line is about even where Envoy's own
// operators cannot know (an outbound has no peer certificate to read the source from).
const (
	kumaHTTPLogFormat = `[%START_TIME%] %KUMA_MESH% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-B3-TRACEID?X-DATADOG-TRACEID)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%KUMA_SOURCE_SERVICE%" "%KUMA_DESTINATION_SERVICE%" "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%" "%UPSTREAM_HOST%"` + "\n"
	kumaTCPLogFormat  = `[%START_TIME%] %RESPONSE_FLAGS% %KUMA_MESH% %KUMA_SOURCE_ADDRESS_WITHOUT_PORT%(%KUMA_SOURCE_SERVICE%)->%UPSTREAM_HOST%(%KUMA_DESTINATION_SERVICE%) took %DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes` + "\n"
)

// kumaPlaceholder is a `%KUMA_...%` operator of a Kuma log format.
var kumaPlaceholder = regexp.MustCompile(`%KUMA_[A-Z_]+%`)

// logFormat fills in the `%KUMA_...%` operators Kuma users write, which Envoy does not know:
// Kuma substitutes them per listener, and so does meshgate. An unknown one costs the custom
// format (the default is used), with a diagnostic, rather than the whole listener.
func (b *builder) logFormat(tl *api.TrafficLog, format string, dest map[string]string) string {
	if format == "" {
		return ""
	}
	values := map[string]string{
		"%KUMA_MESH%":                        b.mesh.Name,
		"%KUMA_SOURCE_SERVICE%":              b.sourceTags()[api.ServiceTag],
		"%KUMA_DESTINATION_SERVICE%":         dest[api.ServiceTag],
		"%KUMA_SOURCE_ADDRESS%":              b.dp.Spec.Networking.Address,
		"%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%": b.dp.Spec.Networking.Address,
	}
	if b.peerIsCaller {
		// A cross-mesh listener's caller is in another mesh: the log names it by the SPIFFE ID
		// it proved (spiffe://<mesh>/<service>), and its address as the gateway saw it.
		values["%KUMA_SOURCE_SERVICE%"] = "%DOWNSTREAM_PEER_URI_SAN%"
		values["%KUMA_SOURCE_ADDRESS%"] = "%DOWNSTREAM_REMOTE_ADDRESS%"
		values["%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%"] = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
	}
	unknown := ""
	out := kumaPlaceholder.ReplaceAllStringFunc(format, func(p string) string {
		v, ok := values[p]
		if !ok && unknown == "" {
			unknown = p
		}
		return v
	})
	if unknown != "" {
		b.diag(&b.mesh.Resource.Meta, "logging.backends", "format of backend used by TrafficLog %s has unknown operator %s; the default format is used", tl.Name, unknown)
		return ""
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}
