package explain

import (
	"fmt"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/names"
)

// Connection policies (CircuitBreaker, HealthCheck, RateLimit, Retry, Timeout) as the request
// meets them: the Envoy settings they became, read from the resources like everything else,
// and the decisions the translator recorded in the io.meshgate metadata (which policy of each
// kind applied, which candidates lost and why). The decisions only label the settings.

// localRateLimitFilter is the HTTP filter name, and typed_per_filter_config key, of Envoy's
// local rate limit filter.
const localRateLimitFilter = "envoy.filters.http.local_ratelimit"

// Envoy's defaults for what a cluster leaves unset.
const envoyDefaultConnectTimeout = "5s"

// Policy is the decision for one policy kind on a route, cluster or TCP filter chain. Applied
// is empty for a kind that is reported but does nothing here (TrafficRoute on a gateway).
type Policy struct {
	Kind    string       `json:"kind"`
	Applied string       `json:"applied,omitempty"`
	Note    string       `json:"note,omitempty"`
	Lost    []LostPolicy `json:"lost,omitempty"`
}

// LostPolicy is a candidate that matched but was not chosen.
type LostPolicy struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Ignored reports whether the entry is an ignored kind rather than an applied policy.
func (p Policy) Ignored() bool { return p.Applied == "" }

// RateLimit is the local rate limit a route configures: a bucket of MaxTokens, Requests tokens
// added every Interval.
type RateLimit struct {
	Requests  uint32 `json:"requests"`
	Interval  string `json:"interval"`
	MaxTokens uint32 `json:"maxTokens"`
	// Status is what a limited request gets (Envoy's 429 unless configured).
	Status  int           `json:"status"`
	Headers []HeaderValue `json:"headers,omitempty"`
	// EnabledPercent and EnforcedPercent are filter_enabled and filter_enforced: the share of
	// requests the filter looks at and the share it refuses when the bucket is empty (an unset
	// fraction is 0 %: the filter is off, or only counts).
	EnabledPercent  float64 `json:"enabledPercent"`
	EnforcedPercent float64 `json:"enforcedPercent"`
}

// ClusterSettings are a cluster's policy settings. Connection timeouts are only reported for
// clusters that record policy decisions (every cluster has a connect timeout); the rest
// whenever the cluster has them.
type ClusterSettings struct {
	ConnectTimeout string `json:"connectTimeout,omitempty"`
	// PoolIdleTimeout and MaxStreamDuration are the HTTP connection pool's limits.
	PoolIdleTimeout   string            `json:"poolIdleTimeout,omitempty"`
	MaxStreamDuration string            `json:"maxStreamDuration,omitempty"`
	CircuitBreaker    *CircuitBreaker   `json:"circuitBreaker,omitempty"`
	OutlierDetection  *OutlierDetection `json:"outlierDetection,omitempty"`
	HealthChecks      []HealthCheck     `json:"healthChecks,omitempty"`
}

// CircuitBreaker is the DEFAULT priority threshold; nil limits keep Envoy's defaults.
type CircuitBreaker struct {
	MaxConnections     *uint32 `json:"maxConnections,omitempty"`
	MaxPendingRequests *uint32 `json:"maxPendingRequests,omitempty"`
	MaxRequests        *uint32 `json:"maxRequests,omitempty"`
	MaxRetries         *uint32 `json:"maxRetries,omitempty"`
}

// OutlierDetection lists the detectors Envoy enforces (defaults applied), in Envoy's words:
// `consecutive_5xx 5`, `success_rate stdev_factor 1.9`.
type OutlierDetection struct {
	Detectors          []string `json:"detectors,omitempty"`
	Interval           string   `json:"interval"`
	BaseEjectionTime   string   `json:"baseEjectionTime"`
	MaxEjectionPercent uint32   `json:"maxEjectionPercent"`
	// SplitExternalLocalOriginErrors counts local-origin failures apart from the upstream's.
	SplitExternalLocalOriginErrors bool `json:"splitExternalLocalOriginErrors,omitempty"`
}

// HealthCheck is one active health check.
type HealthCheck struct {
	// Type is http, grpc, tcp or custom.
	Type               string   `json:"type"`
	Path               string   `json:"path,omitempty"`
	ExpectedStatuses   []string `json:"expectedStatuses,omitempty"`
	Interval           string   `json:"interval"`
	Timeout            string   `json:"timeout"`
	UnhealthyThreshold uint32   `json:"unhealthyThreshold"`
	HealthyThreshold   uint32   `json:"healthyThreshold"`
	// Payload: a TCP check that sends or expects bytes rather than only connecting.
	Payload bool `json:"payload,omitempty"`
}

// policiesFrom reads the policy decisions recorded in md (names.DecodePolicyDecisions).
func policiesFrom(md *corev3.Metadata) []Policy {
	var out []Policy
	for _, d := range names.DecodePolicyDecisions(md.GetFilterMetadata()[names.MetadataNamespace]) {
		p := Policy{Kind: d.Kind, Applied: d.Applied, Note: d.Note}
		for _, l := range d.Lost {
			p.Lost = append(p.Lost, LostPolicy{Name: l.Name, Reason: l.Reason})
		}
		out = append(out, p)
	}
	return out
}

// routeRateLimit is the local rate limit that applies to the route: the most specific
// per-filter configuration (route, virtual host, route configuration).
func (e *explainer) routeRateLimit(rc *routev3.RouteConfiguration, vh *routev3.VirtualHost, rt *routev3.Route) *RateLimit {
	var a *anypb.Any
	for _, l := range []map[string]*anypb.Any{rt.GetTypedPerFilterConfig(), vh.GetTypedPerFilterConfig(), rc.GetTypedPerFilterConfig()} {
		if a = l[localRateLimitFilter]; a != nil {
			break
		}
	}
	if a == nil {
		return nil
	}
	rl, err := rateLimitOf(a)
	if err != nil {
		e.out.note("the route's %s configuration cannot be read: %v", localRateLimitFilter, err)
		return nil
	}
	if rl == nil {
		e.out.note("the route configures %s with a %s, which explain does not interpret", localRateLimitFilter, a.MessageName())
		return nil
	}
	if !contains(e.out.HTTPFilters, localRateLimitFilter) {
		e.out.note("the route configures %s, but the connection manager has no such filter: nothing is limited", localRateLimitFilter)
	}
	return rl
}

// rateLimitOf reads a per-route local rate limit; nil for a configuration of another type.
func rateLimitOf(a *anypb.Any) (*RateLimit, error) {
	if envoyres.TypeName(a) != envoyres.LocalRateLimitType {
		return nil, nil
	}
	cfg := &localratelimitv3.LocalRateLimit{}
	if err := a.UnmarshalTo(cfg); err != nil {
		return nil, err
	}
	tb := cfg.GetTokenBucket()
	rl := &RateLimit{
		MaxTokens:       tb.GetMaxTokens(),
		Requests:        1,
		Interval:        formatDuration(tb.GetFillInterval()),
		Status:          429,
		EnabledPercent:  runtimePercent(cfg.GetFilterEnabled()),
		EnforcedPercent: runtimePercent(cfg.GetFilterEnforced()),
	}
	if n := tb.GetTokensPerFill(); n != nil {
		rl.Requests = n.GetValue()
	}
	if s := cfg.GetStatus(); s != nil && s.GetCode() != 0 {
		rl.Status = int(s.GetCode())
	}
	for _, h := range cfg.GetResponseHeadersToAdd() {
		rl.Headers = append(rl.Headers, HeaderValue{Name: h.GetHeader().GetKey(), Value: h.GetHeader().GetValue()})
	}
	return rl, nil
}

func runtimePercent(f *corev3.RuntimeFractionalPercent) float64 {
	if f == nil {
		return 0
	}
	return percent(f.GetDefaultValue())
}

// describeRetry reads a retry policy.
func describeRetry(rp *routev3.RetryPolicy) *Retry {
	r := &Retry{RetryOn: rp.GetRetryOn(), NumRetries: 1, PerTryTimeout: formatDuration(rp.GetPerTryTimeout())}
	if n := rp.GetNumRetries(); n != nil {
		r.NumRetries = n.GetValue()
	}
	r.RetriableStatusCodes = rp.GetRetriableStatusCodes()
	for _, h := range rp.GetRetriableRequestHeaders() {
		if h.GetName() != ":method" {
			continue
		}
		if m := h.GetStringMatch(); m != nil && m.GetExact() != "" && !h.GetInvertMatch() {
			r.RetriableMethods = append(r.RetriableMethods, m.GetExact())
		}
	}
	if b := rp.GetRetryBackOff(); b != nil {
		r.BaseInterval = formatDuration(b.GetBaseInterval())
		r.MaxInterval = formatDuration(b.GetMaxInterval())
	}
	return r
}

// describeClusterPolicies fills in the policy decisions and settings of cluster c.
func (e *explainer) describeClusterPolicies(c *clusterv3.Cluster, b *Backend) {
	b.Policies = policiesFrom(c.GetMetadata())
	b.ClusterSettings = e.clusterSettings(c, len(b.Policies) > 0)
}

// clusterSettings reads c's policy settings; timeouts only when withTimeouts.
func (e *explainer) clusterSettings(c *clusterv3.Cluster, withTimeouts bool) ClusterSettings {
	var s ClusterSettings
	if withTimeouts {
		s.ConnectTimeout = formatDuration(c.GetConnectTimeout())
		if c.GetConnectTimeout() == nil {
			s.ConnectTimeout = envoyDefaultConnectTimeout
		}
		if a := c.GetTypedExtensionProtocolOptions()[envoyres.HTTPProtocolOptionsType]; a != nil {
			o := &upstreamhttpv3.HttpProtocolOptions{}
			if err := a.UnmarshalTo(o); err != nil {
				e.out.note("cluster %q: its HTTP protocol options cannot be read: %v", c.GetName(), err)
			} else {
				s.PoolIdleTimeout = formatDuration(o.GetCommonHttpProtocolOptions().GetIdleTimeout())
				s.MaxStreamDuration = formatDuration(o.GetCommonHttpProtocolOptions().GetMaxStreamDuration())
			}
		}
	}
	for _, th := range c.GetCircuitBreakers().GetThresholds() {
		if th.GetPriority() != corev3.RoutingPriority_DEFAULT {
			continue
		}
		s.CircuitBreaker = &CircuitBreaker{
			MaxConnections:     optional(th.GetMaxConnections().GetValue(), th.GetMaxConnections() != nil),
			MaxPendingRequests: optional(th.GetMaxPendingRequests().GetValue(), th.GetMaxPendingRequests() != nil),
			MaxRequests:        optional(th.GetMaxRequests().GetValue(), th.GetMaxRequests() != nil),
			MaxRetries:         optional(th.GetMaxRetries().GetValue(), th.GetMaxRetries() != nil),
		}
		break
	}
	if od := c.GetOutlierDetection(); od != nil {
		s.OutlierDetection = outlierDetection(od)
	}
	for _, hc := range c.GetHealthChecks() {
		if hc != nil {
			s.HealthChecks = append(s.HealthChecks, healthCheck(hc))
		}
	}
	return s
}

func optional(v uint32, set bool) *uint32 {
	if !set {
		return nil
	}
	return &v
}

// outlierDetection lists the detectors Envoy enforces, with its defaults for what is unset.
func outlierDetection(od *clusterv3.OutlierDetection) *OutlierDetection {
	u := func(v interface{ GetValue() uint32 }, set bool, def uint32) uint32 {
		if !set {
			return def
		}
		return v.GetValue()
	}
	d := func(v *durationpb.Duration, def string) string {
		if v == nil {
			return def
		}
		return formatDuration(v)
	}
	out := &OutlierDetection{
		Interval:                       d(od.GetInterval(), "10s"),
		BaseEjectionTime:               d(od.GetBaseEjectionTime(), "30s"),
		MaxEjectionPercent:             u(od.GetMaxEjectionPercent(), od.GetMaxEjectionPercent() != nil, 10),
		SplitExternalLocalOriginErrors: od.GetSplitExternalLocalOriginErrors(),
	}
	enforced := func(v interface{ GetValue() uint32 }, set bool, def uint32) bool {
		return u(v, set, def) > 0
	}
	if enforced(od.GetEnforcingConsecutive_5Xx(), od.GetEnforcingConsecutive_5Xx() != nil, 100) {
		out.Detectors = append(out.Detectors, fmt.Sprintf("consecutive_5xx %d", u(od.GetConsecutive_5Xx(), od.GetConsecutive_5Xx() != nil, 5)))
	}
	if enforced(od.GetEnforcingConsecutiveGatewayFailure(), od.GetEnforcingConsecutiveGatewayFailure() != nil, 0) {
		out.Detectors = append(out.Detectors, fmt.Sprintf("consecutive_gateway_failure %d", u(od.GetConsecutiveGatewayFailure(), od.GetConsecutiveGatewayFailure() != nil, 5)))
	}
	// Local-origin failures are only told apart with split_external_local_origin_errors:
	// without it, a detector the cluster asks for explicitly is listed as inert.
	if enforced(od.GetEnforcingConsecutiveLocalOriginFailure(), od.GetEnforcingConsecutiveLocalOriginFailure() != nil, 100) {
		d := fmt.Sprintf("consecutive_local_origin_failure %d", u(od.GetConsecutiveLocalOriginFailure(), od.GetConsecutiveLocalOriginFailure() != nil, 5))
		switch {
		case od.GetSplitExternalLocalOriginErrors():
			out.Detectors = append(out.Detectors, d)
		case od.GetConsecutiveLocalOriginFailure() != nil:
			out.Detectors = append(out.Detectors, d+" (inert without split_external_local_origin_errors)")
		}
	}
	if enforced(od.GetEnforcingSuccessRate(), od.GetEnforcingSuccessRate() != nil, 100) {
		out.Detectors = append(out.Detectors, fmt.Sprintf("success_rate stdev_factor %g (request_volume %d, minimum_hosts %d)",
			float64(u(od.GetSuccessRateStdevFactor(), od.GetSuccessRateStdevFactor() != nil, 1900))/1000,
			u(od.GetSuccessRateRequestVolume(), od.GetSuccessRateRequestVolume() != nil, 100),
			u(od.GetSuccessRateMinimumHosts(), od.GetSuccessRateMinimumHosts() != nil, 5)))
	}
	if enforced(od.GetEnforcingFailurePercentage(), od.GetEnforcingFailurePercentage() != nil, 0) {
		out.Detectors = append(out.Detectors, fmt.Sprintf("failure_percentage %d%% (request_volume %d, minimum_hosts %d)",
			u(od.GetFailurePercentageThreshold(), od.GetFailurePercentageThreshold() != nil, 85),
			u(od.GetFailurePercentageRequestVolume(), od.GetFailurePercentageRequestVolume() != nil, 50),
			u(od.GetFailurePercentageMinimumHosts(), od.GetFailurePercentageMinimumHosts() != nil, 5)))
	}
	return out
}

func healthCheck(hc *corev3.HealthCheck) HealthCheck {
	out := HealthCheck{
		Interval:           formatDuration(hc.GetInterval()),
		Timeout:            formatDuration(hc.GetTimeout()),
		UnhealthyThreshold: hc.GetUnhealthyThreshold().GetValue(),
		HealthyThreshold:   hc.GetHealthyThreshold().GetValue(),
	}
	switch h := hc.GetHealthChecker().(type) {
	case *corev3.HealthCheck_HttpHealthCheck_:
		out.Type = "http"
		if h.HttpHealthCheck.GetCodecClientType() == typev3.CodecClientType_HTTP2 {
			out.Type = "http2"
		}
		out.Path = h.HttpHealthCheck.GetPath()
		for _, r := range h.HttpHealthCheck.GetExpectedStatuses() {
			if r.GetEnd() == r.GetStart()+1 {
				out.ExpectedStatuses = append(out.ExpectedStatuses, fmt.Sprint(r.GetStart()))
			} else {
				out.ExpectedStatuses = append(out.ExpectedStatuses, fmt.Sprintf("%d-%d", r.GetStart(), r.GetEnd()-1))
			}
		}
	case *corev3.HealthCheck_GrpcHealthCheck_:
		out.Type = "grpc"
	case *corev3.HealthCheck_TcpHealthCheck_:
		out.Type = "tcp"
		out.Payload = h.TcpHealthCheck.GetSend() != nil || len(h.TcpHealthCheck.GetReceive()) > 0
	default:
		out.Type = "custom"
	}
	return out
}

// policyText is one decision: `Retry r1  (applied: best match for api; lost: r0 — less
// specific)`; an ignored kind is its note.
func policyText(p Policy) string {
	if p.Ignored() {
		if p.Note != "" {
			return p.Note
		}
		return p.Kind
	}
	s := p.Kind + " " + p.Applied
	var parts []string
	if p.Note != "" {
		parts = append(parts, "applied: "+p.Note)
	}
	if len(p.Lost) > 0 {
		lost := make([]string, len(p.Lost))
		for i, l := range p.Lost {
			lost[i] = l.Name
			if l.Reason != "" {
				lost[i] += " — " + l.Reason
			}
		}
		parts = append(parts, "lost: "+strings.Join(lost, ", "))
	}
	if len(parts) > 0 {
		s += "  (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

// policiesText adds one `policy` (or `ignored`) line per decision, values prefixed.
func policiesText(t *table, label, prefix string, ps []Policy) {
	for _, p := range ps {
		l := label
		if p.Ignored() {
			l = "ignored"
		}
		t.add(l, prefix+policyText(p))
	}
}

func retryText(rp *Retry) string {
	s := fmt.Sprintf("%d on %s", rp.NumRetries, rp.RetryOn)
	if rp.PerTryTimeout != "" {
		s += ", " + rp.PerTryTimeout + " per try"
	}
	if len(rp.RetriableStatusCodes) > 0 {
		codes := make([]string, len(rp.RetriableStatusCodes))
		for i, c := range rp.RetriableStatusCodes {
			codes[i] = fmt.Sprint(c)
		}
		s += "; status " + strings.Join(codes, ", ")
	}
	if len(rp.RetriableMethods) > 0 {
		s += "; methods " + strings.Join(rp.RetriableMethods, ", ")
	}
	if rp.BaseInterval != "" {
		s += "; back-off " + rp.BaseInterval
		if rp.MaxInterval != "" {
			s += " up to " + rp.MaxInterval
		}
	}
	return s
}

func rateLimitText(rl *RateLimit) string {
	s := fmt.Sprintf("%d requests / %s", rl.Requests, rl.Interval)
	if rl.Requests == 1 {
		s = "1 request / " + rl.Interval
	}
	if rl.MaxTokens != rl.Requests {
		s += fmt.Sprintf(" (bucket of %d)", rl.MaxTokens)
	}
	s += fmt.Sprintf("  status %d", rl.Status)
	if len(rl.Headers) > 0 {
		hs := make([]string, len(rl.Headers))
		for i, h := range rl.Headers {
			hs[i] = h.Name + ": " + h.Value
		}
		s += "  headers " + strings.Join(hs, ", ")
	}
	switch {
	case rl.EnabledPercent == 0:
		s += "  (not enabled: nothing is limited)"
	case rl.EnforcedPercent == 0:
		s += "  (not enforced: only counted)"
	case rl.EnabledPercent < 100 || rl.EnforcedPercent < 100:
		s += fmt.Sprintf("  (enabled for %g%%, enforced for %g%%)", rl.EnabledPercent, rl.EnforcedPercent)
	}
	return s
}

// clusterSettingsText adds the lines of a cluster's policy settings, values prefixed.
func clusterSettingsText(t *table, prefix string, s ClusterSettings) {
	if s.ConnectTimeout != "" {
		v := s.ConnectTimeout
		var pool []string
		if s.PoolIdleTimeout != "" {
			pool = append(pool, "pool idle "+s.PoolIdleTimeout)
		}
		if s.MaxStreamDuration != "" {
			pool = append(pool, "max stream duration "+s.MaxStreamDuration)
		}
		if len(pool) > 0 {
			v += "  (" + strings.Join(pool, ", ") + ")"
		}
		t.add("connect timeout", prefix+v)
	}
	if cb := s.CircuitBreaker; cb != nil {
		var parts []string
		add := func(name string, v *uint32) {
			if v != nil {
				parts = append(parts, fmt.Sprintf("%s %d", name, *v))
			}
		}
		add("max_connections", cb.MaxConnections)
		add("max_pending_requests", cb.MaxPendingRequests)
		add("max_requests", cb.MaxRequests)
		add("max_retries", cb.MaxRetries)
		if len(parts) == 0 {
			parts = []string{"Envoy's default thresholds"}
		}
		t.add("circuit breaker", prefix+strings.Join(parts, "  "))
	}
	if od := s.OutlierDetection; od != nil {
		v := "no detector enforced"
		if len(od.Detectors) > 0 {
			v = strings.Join(od.Detectors, ", ")
		}
		v += fmt.Sprintf("  interval %s  base_ejection_time %s  max_ejection_percent %d", od.Interval, od.BaseEjectionTime, od.MaxEjectionPercent)
		t.add("outlier detection", prefix+v)
	}
	for _, h := range s.HealthChecks {
		v := h.Type
		if h.Path != "" {
			v += " " + h.Path
		}
		if h.Payload {
			v += " (payload)"
		}
		v += fmt.Sprintf(" every %s, timeout %s, unhealthy after %d, healthy after %d", h.Interval, h.Timeout, h.UnhealthyThreshold, h.HealthyThreshold)
		if len(h.ExpectedStatuses) > 0 {
			v += ", expects " + strings.Join(h.ExpectedStatuses, ", ")
		}
		t.add("health check", prefix+v)
	}
}
