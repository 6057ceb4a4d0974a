package build

import (
	"strings"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// minRateLimitInterval is Envoy's smallest token-bucket fill interval.
const minRateLimitInterval = 50 * time.Millisecond

// Kuma's retry defaults, used when a policy's section does not say.
const (
	defaultHTTPRetryOn = "gateway-error,connect-failure,refused-stream"
	defaultGRPCRetryOn = "cancelled,deadline-exceeded,resource-exhausted,unavailable"
)

// clusterKinds are the policies that configure a cluster, in the order they are applied.
var clusterKinds = []api.Kind{api.KindCircuitBreaker, api.KindHealthCheck, api.KindTimeout}

// clusterPicks is the per-destination choice of each cluster policy for a listener with
// listenerTags (nil for a sidecar), one entry per clusterKinds, nil when none matched.
func (b *builder) clusterPicks(dest, listenerTags map[string]string) []*policyPick {
	out := make([]*policyPick, len(clusterKinds))
	for i, k := range clusterKinds {
		out[i] = b.pickForDestination(k, listenerTags, dest)
	}
	return out
}

// picksSignature and policySignature name the policy set of a cluster, to tell whether two
// listeners may share it.
func picksSignature(picks []*policyPick) string {
	var parts []string
	for _, pp := range picks {
		if pp != nil {
			parts = append(parts, pp.decision.Kind+"="+pp.decision.Applied)
		}
	}
	return strings.Join(parts, ",")
}

func policySignature(ds []ir.PolicyDecision) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Kind+"="+d.Applied)
	}
	return strings.Join(parts, ",")
}

// variantName is the cluster name of a destination for a listener whose policies differ from
// the first listener's: the applied policies' names, or `default` when none applies.
func variantName(base string, picks []*policyPick) string {
	var applied []string
	for _, pp := range picks {
		if pp != nil {
			applied = append(applied, pp.decision.Applied)
		}
	}
	return names.ClusterVariant(base, applied)
}

func applyClusterPicks(c *ir.Cluster, picks []*policyPick) {
	for i, pp := range picks {
		if pp == nil {
			continue
		}
		c.Policies = append(c.Policies, pp.decision)
		switch clusterKinds[i] {
		case api.KindCircuitBreaker:
			c.CircuitBreaker = circuitBreaker(pp.policy.(*api.CircuitBreaker).Spec.Conf)
		case api.KindHealthCheck:
			c.HealthChecks = healthChecks(pp.policy.(*api.HealthCheck).Spec.Conf)
		case api.KindTimeout:
			applyClusterTimeout(c, pp.policy.(*api.Timeout).Spec.Conf)
		}
	}
}

func applyClusterTimeout(c *ir.Cluster, conf *api.TimeoutConf) {
	if conf == nil {
		return
	}
	if d, ok := conf.ConnectTimeout.Get(); ok && d > 0 {
		c.ConnectTimeout = d
	}
	t := &ir.ClusterTimeouts{}
	t.IdleTimeout, _ = conf.HTTPIdleTimeout()
	t.MaxStreamDuration, _ = conf.HTTPMaxStreamDuration()
	if t.IdleTimeout > 0 || t.MaxStreamDuration > 0 {
		c.Timeouts = t
	}
}

func circuitBreaker(conf *api.CircuitBreakerConf) *ir.CircuitBreaker {
	if conf == nil {
		return nil
	}
	cb := &ir.CircuitBreaker{}
	if t := conf.Thresholds; t != nil {
		cb.MaxConnections, cb.MaxPendingRequests = deref(t.MaxConnections), deref(t.MaxPendingRequests)
		cb.MaxRequests, cb.MaxRetries = deref(t.MaxRequests), deref(t.MaxRetries)
	}
	if conf.HasDetectors() {
		o := &ir.OutlierDetection{MaxEjectionPercent: conf.MaxEjectionPercent, SplitExternalLocalErrors: conf.SplitExternalAndLocalErrors}
		o.Interval, _ = conf.Interval.Get()
		o.BaseEjectionTime, _ = conf.BaseEjectionTime.Get()
		d := conf.Detectors
		if d.TotalErrors != nil {
			o.Consecutive5xx = d.TotalErrors.Consecutive
		}
		if d.GatewayErrors != nil {
			o.ConsecutiveGatewayFailure = d.GatewayErrors.Consecutive
		}
		if d.LocalErrors != nil {
			o.ConsecutiveLocalOriginFailure = d.LocalErrors.Consecutive
		}
		if s := d.StandardDeviation; s != nil {
			o.SuccessRate = &ir.OutlierStats{RequestVolume: deref(s.RequestVolume), MinimumHosts: deref(s.MinimumHosts)}
			if s.Factor != nil {
				o.SuccessRate.Value = *s.Factor
			}
		}
		if f := d.Failure; f != nil {
			o.FailurePercentage = &ir.OutlierStats{RequestVolume: deref(f.RequestVolume), MinimumHosts: deref(f.MinimumHosts), Value: float64(deref(f.Threshold))}
		}
		cb.Outlier = o
	}
	return cb
}

// healthChecks returns one check, or two when the policy has both an HTTP and a TCP section
// (Envoy's health check holds one kind; Kuma renders both).
func healthChecks(conf *api.HealthCheckConf) []ir.HealthCheck {
	if conf == nil {
		return nil
	}
	hc := ir.HealthCheck{
		UnhealthyThreshold: conf.UnhealthyThreshold, HealthyThreshold: conf.HealthyThreshold,
		IntervalJitterPercent: conf.IntervalJitterPercent, HealthyPanicThreshold: conf.HealthyPanicThreshold,
		EventLogPath: conf.EventLogPath, ReuseConnection: conf.ReuseConnection,
	}
	hc.Interval, _ = conf.Interval.Get()
	hc.Timeout, _ = conf.Timeout.Get()
	hc.InitialJitter, _ = conf.InitialJitter.Get()
	hc.IntervalJitter, _ = conf.IntervalJitter.Get()
	hc.NoTrafficInterval, _ = conf.NoTrafficInterval.Get()
	if conf.FailTrafficOnPanic != nil {
		hc.FailTrafficOnPanic = *conf.FailTrafficOnPanic
	}
	if conf.AlwaysLogHealthCheckFailures != nil {
		hc.AlwaysLogFailures = *conf.AlwaysLogHealthCheckFailures
	}
	var out []ir.HealthCheck
	if h := conf.HTTP; h != nil {
		c := hc
		c.HTTP = &ir.HTTPHealthCheck{Path: h.Path, ExpectedStatuses: h.ExpectedStatuses}
		for _, rh := range h.RequestHeadersToAdd {
			if rh.Header == nil {
				continue
			}
			c.HTTP.RequestHeaders = append(c.HTTP.RequestHeaders, ir.HealthCheckHeader{Name: rh.Header.Key, Value: rh.Header.Value, Append: rh.Append == nil || *rh.Append})
		}
		out = append(out, c)
	}
	if t := conf.TCP; t != nil || conf.HTTP == nil {
		c := hc
		c.TCP = &ir.TCPHealthCheck{}
		if send, err := t.SendBytes(); err == nil {
			c.TCP.Send = string(send)
		}
		if recv, err := t.ReceiveBytes(); err == nil {
			for _, r := range recv {
				c.TCP.Receive = append(c.TCP.Receive, string(r))
			}
		}
		out = append(out, c)
	}
	return out
}

// routePolicies applies the route-level choice of Timeout, Retry and, on a gateway, RateLimit
// to a forward action whose backends are dests (docs/kuma-compatibility.md#policy-matching step 3), and says which TrafficRoutes
// a gateway ignores. A sidecar's outbound leaves RateLimit to the destination's inbound (see
// inboundRoutes and outboundRateLimit).
func (b *builder) routePolicies(fwd *ir.Forward, dests []map[string]string, listenerTags map[string]string) {
	pick := func(kind api.Kind) *policyPick { return b.pickForRoute(kind, listenerTags, dests) }
	if pp := pick(api.KindTimeout); pp != nil {
		fwd.Policies = append(fwd.Policies, pp.decision)
		if d, ok := pp.policy.(*api.Timeout).Spec.Conf.HTTPRequestTimeout(); ok {
			fwd.Timeout = d
		}
		fwd.IdleTimeout, _ = pp.policy.(*api.Timeout).Spec.Conf.HTTPStreamIdleTimeout()
	}
	if pp := pick(api.KindRetry); pp != nil {
		fwd.Policies = append(fwd.Policies, pp.decision)
		fwd.Retry = retryPolicy(pp.policy.(*api.Retry).Spec.Conf, grpcDestinations(dests))
	}
	if listenerTags != nil {
		if pp := pick(api.KindRateLimit); pp != nil {
			b.applyRateLimit(fwd, pp)
		}
		fwd.Policies = append(fwd.Policies, b.ignoredOnGateway(listenerTags)...)
	}
}

// applyRateLimit puts the chosen RateLimit's bucket on a route, or says why Envoy cannot apply it.
func (b *builder) applyRateLimit(fwd *ir.Forward, pp *policyPick) {
	rl, note := rateLimit(pp.policy.(*api.RateLimit).Spec.Conf)
	pp.decision.Note = joinNote(pp.decision.Note, note)
	if rl == nil && note != "" {
		b.diag(pp.policy.GetMeta(), "conf.http", "%s", note)
	}
	fwd.RateLimit = rl
	fwd.Policies = append(fwd.Policies, pp.decision)
}

// ignoredOnGateway reports the TrafficRoutes and VirtualOutbounds that select the gateway:
// accepted, and ignored, because a gateway routes by MeshGatewayRoute and has no outbounds.
func (b *builder) ignoredOnGateway(listenerTags map[string]string) []ir.PolicyDecision {
	var out []ir.PolicyDecision
	for _, tr := range model.PoliciesOf[*api.TrafficRoute](b.mesh, api.KindTrafficRoute) {
		if _, ok := model.BestMatch(tr.SourceSelectors(), listenerTags); ok {
			out = append(out, ir.PolicyDecision{Kind: string(api.KindTrafficRoute), Note: "TrafficRoute " + tr.Name + " selects this gateway and is ignored: a gateway routes by MeshGatewayRoute"})
		}
	}
	for _, vo := range model.PoliciesOf[*api.VirtualOutbound](b.mesh, api.KindVirtualOutbound) {
		if _, ok := model.BestMatch(vo.Selectors(), listenerTags); ok {
			out = append(out, ir.PolicyDecision{Kind: string(api.KindVirtualOutbound), Note: "VirtualOutbound " + vo.Name + " selects this gateway and is ignored: a gateway has no outbounds"})
		}
	}
	return out
}

func grpcDestinations(dests []map[string]string) bool {
	for _, d := range dests {
		if d[api.ProtocolTag] != "grpc" {
			return false
		}
	}
	return len(dests) > 0
}

// retryPolicy renders the HTTP section (or the gRPC one for gRPC destinations), filling
// Kuma's defaults for what the section leaves out.
func retryPolicy(conf *api.RetryConf, grpc bool) *ir.RetryPolicy {
	if conf == nil {
		return nil
	}
	if grpc && conf.GRPC != nil {
		g := conf.GRPC
		r := &ir.RetryPolicy{RetryOn: defaultGRPCRetryOn, NumRetries: deref(g.NumRetries)}
		if len(g.RetryOn) > 0 {
			on := make([]string, len(g.RetryOn))
			for i, o := range g.RetryOn {
				on[i] = o.EnvoyName()
			}
			r.RetryOn = strings.Join(on, ",")
		}
		r.PerTryTimeout, _ = g.PerTryTimeout.Get()
		backOff(r, g.BackOff)
		return r
	}
	h := conf.HTTP
	if h == nil {
		return nil
	}
	r := &ir.RetryPolicy{RetryOn: defaultHTTPRetryOn, NumRetries: deref(h.NumRetries), RetriableStatusCodes: h.RetriableStatusCodes}
	if len(h.RetryOn) > 0 {
		on := make([]string, len(h.RetryOn))
		for i, o := range h.RetryOn {
			on[i] = o.EnvoyName()
		}
		r.RetryOn = strings.Join(on, ",")
	}
	if len(h.RetriableStatusCodes) > 0 && !strings.Contains(r.RetryOn, "retriable-status-codes") {
		// Envoy retries on the listed codes only with this condition; Kuma adds it too.
		r.RetryOn += ",retriable-status-codes"
	}
	for _, m := range h.RetriableMethods {
		r.RetriableMethods = append(r.RetriableMethods, string(m))
	}
	r.PerTryTimeout, _ = h.PerTryTimeout.Get()
	backOff(r, h.BackOff)
	return r
}

func backOff(r *ir.RetryPolicy, b *api.RetryBackOff) {
	if b == nil {
		return
	}
	r.BaseInterval, _ = b.BaseInterval.Get()
	r.MaxInterval, _ = b.MaxInterval.Get()
	if r.BaseInterval == 0 {
		r.MaxInterval = 0
	}
}

// rateLimit renders the policy, or nil with the reason Envoy could not apply it.
func rateLimit(conf *api.RateLimitConf) (*ir.LocalRateLimit, string) {
	if conf == nil || conf.HTTP == nil {
		return nil, "no http section: nothing to limit"
	}
	h := conf.HTTP
	rl := &ir.LocalRateLimit{Requests: h.Requests}
	rl.Interval, _ = h.Interval.Get()
	if rl.Interval < minRateLimitInterval {
		return nil, "interval below Envoy's minimum of 50ms: not applied"
	}
	note := ""
	if o := h.OnRateLimit; o != nil {
		if o.Status != nil {
			if *o.Status >= 400 && *o.Status < 600 {
				rl.Status = *o.Status
			} else {
				note = "onRateLimit.status must be 4xx or 5xx for Envoy; 429 is sent"
			}
		}
		for _, hd := range o.Headers {
			// Kuma's append defaults to true.
			if hd.Append == nil || *hd.Append {
				rl.AppendHeaders = append(rl.AppendHeaders, ir.Header{Name: hd.Key, Value: hd.Value})
			} else {
				rl.Headers = append(rl.Headers, ir.Header{Name: hd.Key, Value: hd.Value})
			}
		}
	}
	return rl, note
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

func deref(p *uint32) uint32 {
	if p == nil {
		return 0
	}
	return *p
}

// tcpPolicies applies Retry (connect attempts) and Timeout (idle) to a TCP proxy: the best
// policy across all its destinations, as Kuma does for TCP listeners.
func (b *builder) tcpPolicies(tcp *ir.TCPProxy, dests []map[string]string, listenerTags map[string]string) {
	best := func(kind api.Kind) *policyPick { return b.pickForRoute(kind, listenerTags, dests) }
	if pp := best(api.KindRetry); pp != nil {
		if conf := pp.policy.(*api.Retry).Spec.Conf; conf != nil && conf.TCP != nil {
			tcp.MaxConnectAttempts = conf.TCP.MaxConnectAttempts
			tcp.Policies = append(tcp.Policies, pp.decision)
		}
	}
	if pp := best(api.KindTimeout); pp != nil {
		if d, ok := pp.policy.(*api.Timeout).Spec.Conf.TCPIdleTimeout(); ok {
			tcp.IdleTimeout = d
			tcp.Policies = append(tcp.Policies, pp.decision)
		}
	}
	if listenerTags != nil {
		tcp.Policies = append(tcp.Policies, b.ignoredOnGateway(listenerTags)...)
	}
}
