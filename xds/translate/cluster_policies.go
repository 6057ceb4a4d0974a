package translate

import (
	"encoding/hex"
	"math"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcfilev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/health_check/event_sinks/file/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// Cluster-level policy settings (docs/kuma-compatibility.md#policy-support): CircuitBreaker, HealthCheck and the HTTP part of
// Timeout, rendered as Kuma's cluster configurers render them. Every field is left out when
// its IR value is unset, so a cluster without policies is exactly what it was before them.

// healthCheckFileSink is the extension name of Envoy's health check event file sink, the
// non-deprecated replacement of HealthCheck.event_log_path.
const healthCheckFileSink = "envoy.health_check.event_sinks.file"

// enforceAll and enforceNone are outlier detection enforcing percentages: Kuma enforces the
// detectors a CircuitBreaker lists fully and disables the others explicitly.
const (
	enforceAll  = 100
	enforceNone = 0
)

// clusterPolicies applies c's policy settings to out. Timeouts are applied by upstreamProtocol,
// which owns the HTTP protocol options.
func clusterPolicies(out *clusterv3.Cluster, c ir.Cluster) error {
	if cb := c.CircuitBreaker; cb != nil {
		out.CircuitBreakers = circuitBreakers(*cb)
		if cb.Outlier != nil {
			out.OutlierDetection = outlierDetection(*cb.Outlier)
		}
	}
	for _, h := range c.HealthChecks {
		hc, err := healthCheck(h, c.Protocol)
		if err != nil {
			return err
		}
		out.HealthChecks = append(out.HealthChecks, hc)
	}
	out.CommonLbConfig = panicConfig(c.HealthChecks)
	out.Metadata = setPolicyDecisions(out.Metadata, c.Policies)
	return nil
}

// circuitBreakers is one DEFAULT-priority threshold with only the limits the policy sets;
// nil when it sets none (Kuma then leaves circuit_breakers out).
func circuitBreakers(cb ir.CircuitBreaker) *clusterv3.CircuitBreakers {
	if cb.MaxConnections == 0 && cb.MaxPendingRequests == 0 && cb.MaxRequests == 0 && cb.MaxRetries == 0 {
		return nil
	}
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		Priority:           corev3.RoutingPriority_DEFAULT,
		MaxConnections:     optionalUInt32(cb.MaxConnections),
		MaxPendingRequests: optionalUInt32(cb.MaxPendingRequests),
		MaxRequests:        optionalUInt32(cb.MaxRequests),
		MaxRetries:         optionalUInt32(cb.MaxRetries),
	}}}
}

// outlierDetection follows Kuma's OutlierDetectionConfigurer: each listed detector is enforced
// at 100 %, each unlisted one at 0 % (Envoy would otherwise enforce consecutive 5xx and success
// rate by default). Zero counts and volumes keep Envoy's defaults.
func outlierDetection(o ir.OutlierDetection) *clusterv3.OutlierDetection {
	out := &clusterv3.OutlierDetection{
		Interval:                       duration(o.Interval),
		BaseEjectionTime:               duration(o.BaseEjectionTime),
		SplitExternalLocalOriginErrors: o.SplitExternalLocalErrors,
	}
	if o.MaxEjectionPercent != nil {
		out.MaxEjectionPercent = wrapperspb.UInt32(*o.MaxEjectionPercent)
	}
	out.Consecutive_5Xx, out.EnforcingConsecutive_5Xx = detector(o.Consecutive5xx)
	out.ConsecutiveGatewayFailure, out.EnforcingConsecutiveGatewayFailure = detector(o.ConsecutiveGatewayFailure)
	out.ConsecutiveLocalOriginFailure, out.EnforcingConsecutiveLocalOriginFailure = detector(o.ConsecutiveLocalOriginFailure)
	if s := o.SuccessRate; s != nil {
		out.SuccessRateRequestVolume = optionalUInt32(s.RequestVolume)
		out.SuccessRateMinimumHosts = optionalUInt32(s.MinimumHosts)
		// Envoy divides stdev_factor by 1000; rounding keeps 1.9 at 1900 rather than 1899.
		out.SuccessRateStdevFactor = optionalUInt32(uint32(math.Round(s.Value * 1000)))
		out.EnforcingSuccessRate = wrapperspb.UInt32(enforceAll)
		// Takes effect only with split_external_local_origin_errors, as in Kuma.
		out.EnforcingLocalOriginSuccessRate = wrapperspb.UInt32(enforceAll)
	} else {
		out.EnforcingSuccessRate = wrapperspb.UInt32(enforceNone)
	}
	if f := o.FailurePercentage; f != nil {
		out.FailurePercentageRequestVolume = optionalUInt32(f.RequestVolume)
		out.FailurePercentageMinimumHosts = optionalUInt32(f.MinimumHosts)
		out.FailurePercentageThreshold = optionalUInt32(uint32(math.Round(f.Value)))
		out.EnforcingFailurePercentage = wrapperspb.UInt32(enforceAll)
		out.EnforcingFailurePercentageLocalOrigin = wrapperspb.UInt32(enforceAll)
	} else {
		out.EnforcingFailurePercentage = wrapperspb.UInt32(enforceNone)
	}
	return out
}

// detector returns a consecutive-failure detector's count and enforcing percentage.
func detector(consecutive *uint32) (*wrapperspb.UInt32Value, *wrapperspb.UInt32Value) {
	if consecutive == nil {
		return nil, wrapperspb.UInt32(enforceNone)
	}
	return wrapperspb.UInt32(*consecutive), wrapperspb.UInt32(enforceAll)
}

// healthCheck is one active check, as Kuma's HealthCheckConfigurer builds it: HTTP when the IR
// says so (HTTP/2 codec on an http2 cluster), else TCP, connect-only without payloads.
func healthCheck(h ir.HealthCheck, protocol ir.ClusterProtocol) (*corev3.HealthCheck, error) {
	out := &corev3.HealthCheck{
		Timeout:                      durationpb.New(h.Timeout),
		Interval:                     durationpb.New(h.Interval),
		InitialJitter:                duration(h.InitialJitter),
		IntervalJitter:               duration(h.IntervalJitter),
		IntervalJitterPercent:        h.IntervalJitterPercent,
		UnhealthyThreshold:           wrapperspb.UInt32(h.UnhealthyThreshold),
		HealthyThreshold:             wrapperspb.UInt32(h.HealthyThreshold),
		NoTrafficInterval:            duration(h.NoTrafficInterval),
		AlwaysLogHealthCheckFailures: h.AlwaysLogFailures,
	}
	if h.ReuseConnection != nil {
		out.ReuseConnection = wrapperspb.Bool(*h.ReuseConnection)
	}
	if h.EventLogPath != "" {
		sink, err := toAny(&hcfilev3.HealthCheckEventFileSink{EventLogPath: h.EventLogPath})
		if err != nil {
			return nil, err
		}
		out.EventLogger = []*corev3.TypedExtensionConfig{{Name: healthCheckFileSink, TypedConfig: sink}}
	}
	if h.HTTP != nil {
		out.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: httpHealthCheck(*h.HTTP, protocol)}
		return out, nil
	}
	tcp := &corev3.HealthCheck_TcpHealthCheck{}
	if h.TCP != nil {
		if h.TCP.Send != "" {
			tcp.Send = hexPayload(h.TCP.Send)
		}
		for _, r := range h.TCP.Receive {
			tcp.Receive = append(tcp.Receive, hexPayload(r))
		}
	}
	out.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: tcp}
	return out, nil
}

func httpHealthCheck(h ir.HTTPHealthCheck, protocol ir.ClusterProtocol) *corev3.HealthCheck_HttpHealthCheck {
	out := &corev3.HealthCheck_HttpHealthCheck{Path: h.Path}
	if protocol == ir.ClusterHTTP2 {
		out.CodecClientType = typev3.CodecClientType_HTTP2
	}
	for _, hdr := range h.RequestHeaders {
		action := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		if hdr.Append {
			action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		out.RequestHeadersToAdd = append(out.RequestHeadersToAdd, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: hdr.Name, Value: hdr.Value},
			AppendAction: action,
		})
	}
	// Each expected status is the half-open range [s, s+1).
	for _, s := range h.ExpectedStatuses {
		out.ExpectedStatuses = append(out.ExpectedStatuses, &typev3.Int64Range{Start: int64(s), End: int64(s) + 1})
	}
	return out
}

// hexPayload is a TCP health check payload: Envoy's `text` is the hex encoding of the bytes.
func hexPayload(s string) *corev3.HealthCheck_Payload {
	return &corev3.HealthCheck_Payload{Payload: &corev3.HealthCheck_Payload_Text{Text: hex.EncodeToString([]byte(s))}}
}

// panicConfig carries the health checks' cluster-wide panic settings: the first threshold set
// (validation requires all set ones to agree) and fail_traffic_on_panic if any check asks for
// it, which Envoy has only in zone_aware_lb_config (Kuma sets it there too).
func panicConfig(hcs []ir.HealthCheck) *clusterv3.Cluster_CommonLbConfig {
	var threshold *float64
	fail := false
	for _, h := range hcs {
		if threshold == nil && h.HealthyPanicThreshold != nil {
			threshold = h.HealthyPanicThreshold
		}
		fail = fail || h.FailTrafficOnPanic
	}
	if threshold == nil && !fail {
		return nil
	}
	out := &clusterv3.Cluster_CommonLbConfig{}
	if threshold != nil {
		out.HealthyPanicThreshold = &typev3.Percent{Value: *threshold}
	}
	if fail {
		out.LocalityConfigSpecifier = &clusterv3.Cluster_CommonLbConfig_ZoneAwareLbConfig_{
			ZoneAwareLbConfig: &clusterv3.Cluster_CommonLbConfig_ZoneAwareLbConfig{FailTrafficOnPanic: true},
		}
	}
	return out
}

// clusterHTTPTimeouts are the Timeout policy's connection-pool limits; nil when none is set.
func clusterHTTPTimeouts(t *ir.ClusterTimeouts) *corev3.HttpProtocolOptions {
	if t == nil || (t.IdleTimeout == 0 && t.MaxStreamDuration == 0) {
		return nil
	}
	return &corev3.HttpProtocolOptions{
		IdleTimeout:       duration(t.IdleTimeout),
		MaxStreamDuration: duration(t.MaxStreamDuration),
	}
}

// policyDecisionsValue is the metadata form of policy decisions (names.EncodePolicyDecisions).
func policyDecisionsValue(ds []ir.PolicyDecision) *structpb.Value {
	out := make([]names.PolicyDecision, len(ds))
	for i, d := range ds {
		out[i] = names.PolicyDecision{Kind: d.Kind, Applied: d.Applied, Note: d.Note}
		for _, l := range d.Lost {
			out[i].Lost = append(out[i].Lost, names.LostPolicy{Name: l.Name, Reason: l.Reason})
		}
	}
	return names.EncodePolicyDecisions(out)
}

// setPolicyDecisions records ds in md's meshgate namespace, creating the metadata if needed,
// and returns it. Nothing is recorded for no decisions.
func setPolicyDecisions(md *corev3.Metadata, ds []ir.PolicyDecision) *corev3.Metadata {
	if len(ds) == 0 {
		return md
	}
	if md == nil {
		return meshgateMetadata(map[string]*structpb.Value{names.PoliciesMetadataKey: policyDecisionsValue(ds)})
	}
	if md.FilterMetadata == nil {
		md.FilterMetadata = map[string]*structpb.Struct{}
	}
	s := md.FilterMetadata[names.MetadataNamespace]
	if s == nil {
		s = &structpb.Struct{}
		md.FilterMetadata[names.MetadataNamespace] = s
	}
	if s.Fields == nil {
		s.Fields = map[string]*structpb.Value{}
	}
	s.Fields[names.PoliciesMetadataKey] = policyDecisionsValue(ds)
	return md
}
