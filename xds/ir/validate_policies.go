package ir

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Checks of the connection-policy settings (policies.go): circuit breakers and outlier
// detection, health checks, cluster timeouts, retries, local rate limits and the recorded
// policy decisions. Each mirrors a constraint Envoy enforces, or one whose violation Envoy
// would silently ignore.

// minFillInterval is the shortest token bucket refill Envoy's local rate limit filter accepts.
const minFillInterval = 50 * time.Millisecond

// retryOnConditions are the conditions Envoy's router understands in retry_on (HTTP and gRPC);
// it ignores any other word, so a typo would silently disable retries.
var retryOnConditions = map[string]bool{
	"5xx": true, "gateway-error": true, "reset": true, "reset-before-request": true,
	"connect-failure": true, "envoy-ratelimited": true, "retriable-4xx": true,
	"refused-stream": true, "retriable-status-codes": true, "retriable-headers": true,
	"http3-post-connect-failure": true,
	"cancelled":                  true, "deadline-exceeded": true, "internal": true,
	"resource-exhausted": true, "unavailable": true,
}

// rateLimitStatuses are the 4xx and 5xx codes of Envoy's StatusCode enum: the local rate limit
// filter's status must be a defined code, and one below 400 is silently replaced by 429.
var rateLimitStatuses = map[uint32]bool{
	400: true, 401: true, 402: true, 403: true, 404: true, 405: true, 406: true, 407: true,
	408: true, 409: true, 410: true, 411: true, 412: true, 413: true, 414: true, 415: true,
	416: true, 417: true, 421: true, 422: true, 423: true, 424: true, 426: true, 428: true,
	429: true, 431: true,
	500: true, 501: true, 502: true, 503: true, 504: true, 505: true, 506: true, 507: true,
	508: true, 510: true, 511: true,
}

func (v *validator) clusterPolicies(path string, c Cluster) {
	if cb := c.CircuitBreaker; cb != nil && cb.Outlier != nil {
		v.outlier(path+".circuitBreaker.outlier", *cb.Outlier)
	}
	var threshold *float64
	thresholdPath := ""
	for i, h := range c.HealthChecks {
		p := fmt.Sprintf("%s.healthChecks[%d]", path, i)
		v.healthCheck(p, h)
		// The panic threshold is one cluster-wide setting.
		if t := h.HealthyPanicThreshold; t != nil {
			if threshold == nil {
				threshold, thresholdPath = t, p
			} else if *t != *threshold {
				v.add(p+".healthyPanicThreshold", "must equal %s.healthyPanicThreshold (%v): the cluster has one panic threshold", thresholdPath, *threshold)
			}
		}
	}
	if t := c.Timeouts; t != nil {
		v.duration(path+".timeouts.idleTimeout", t.IdleTimeout)
		v.duration(path+".timeouts.maxStreamDuration", t.MaxStreamDuration)
	}
	v.policyDecisions(path+".policies", c.Policies)
}

func (v *validator) outlier(path string, o OutlierDetection) {
	v.duration(path+".interval", o.Interval)
	v.duration(path+".baseEjectionTime", o.BaseEjectionTime)
	if p := o.MaxEjectionPercent; p != nil && *p > 100 {
		v.add(path+".maxEjectionPercent", "must be at most 100, got %d", *p)
	}
	if s := o.SuccessRate; s != nil {
		// Envoy takes the factor ×1000 as a uint32.
		if math.IsNaN(s.Value) || s.Value < 0 || s.Value*1000 > math.MaxUint32 {
			v.add(path+".successRate.value", "must be a stdev factor in [0, %d], got %v", math.MaxUint32/1000, s.Value)
		}
	}
	if f := o.FailurePercentage; f != nil {
		if math.IsNaN(f.Value) || f.Value < 0 || f.Value > 100 || f.Value != math.Trunc(f.Value) {
			v.add(path+".failurePercentage.value", "must be a whole percentage in [0, 100], got %v", f.Value)
		}
	}
}

func (v *validator) healthCheck(path string, h HealthCheck) {
	if h.Interval <= 0 {
		v.add(path+".interval", "must be positive, got %s", h.Interval)
	}
	if h.Timeout <= 0 {
		v.add(path+".timeout", "must be positive, got %s", h.Timeout)
	}
	if h.UnhealthyThreshold < 1 {
		v.add(path+".unhealthyThreshold", "must be at least 1")
	}
	if h.HealthyThreshold < 1 {
		v.add(path+".healthyThreshold", "must be at least 1")
	}
	v.duration(path+".initialJitter", h.InitialJitter)
	v.duration(path+".intervalJitter", h.IntervalJitter)
	v.duration(path+".noTrafficInterval", h.NoTrafficInterval)
	if t := h.HealthyPanicThreshold; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 100) {
		v.add(path+".healthyPanicThreshold", "must be a percentage in [0, 100], got %v", *t)
	}
	if strings.ContainsAny(h.EventLogPath, "\x00\r\n") {
		v.add(path+".eventLogPath", "must not contain NUL, CR or LF")
	}
	// Translation renders HTTP when it is set; a TCP check beside it would be dropped.
	if h.HTTP != nil && h.TCP != nil {
		v.add(path, "at most one of http and tcp may be set; use one health check each")
	}
	if hc := h.HTTP; hc != nil {
		p := path + ".http"
		if !strings.HasPrefix(hc.Path, "/") {
			v.add(p+".path", "must be an absolute path, got %q", hc.Path)
		} else if strings.IndexFunc(hc.Path, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			v.add(p+".path", "must not contain control characters")
		}
		for i, hdr := range hc.RequestHeaders {
			v.headerToAdd(fmt.Sprintf("%s.requestHeaders[%d]", p, i), Header{Name: hdr.Name, Value: hdr.Value})
		}
		for i, s := range hc.ExpectedStatuses {
			if s < 100 || s > 599 {
				v.add(fmt.Sprintf("%s.expectedStatuses[%d]", p, i), "must be in [100, 599], got %d", s)
			}
		}
	}
	if tc := h.TCP; tc != nil {
		for i, r := range tc.Receive {
			if r == "" {
				v.add(fmt.Sprintf("%s.tcp.receive[%d]", path, i), "must not be empty")
			}
		}
	}
}

func (v *validator) forwardPolicies(path string, f Forward) {
	if r := f.Retry; r != nil {
		v.retry(path+".retry", *r)
	}
	if rl := f.RateLimit; rl != nil {
		p := path + ".rateLimit"
		if rl.Requests < 1 {
			v.add(p+".requests", "must be at least 1")
		}
		if rl.Interval < minFillInterval {
			v.add(p+".interval", "must be at least %s, got %s", minFillInterval, rl.Interval)
		}
		if rl.Status != 0 && !rateLimitStatuses[rl.Status] {
			v.add(p+".status", "must be 0 (429) or an HTTP status of Envoy's StatusCode in [400, 599], got %d", rl.Status)
		}
		for i, h := range rl.Headers {
			v.headerToAdd(fmt.Sprintf("%s.headers[%d]", p, i), h)
		}
		for i, h := range rl.AppendHeaders {
			v.headerToAdd(fmt.Sprintf("%s.appendHeaders[%d]", p, i), h)
		}
	}
	v.policyDecisions(path+".policies", f.Policies)
}

func (v *validator) retry(path string, r RetryPolicy) {
	conditions := map[string]bool{}
	if strings.TrimSpace(r.RetryOn) == "" {
		v.add(path+".retryOn", "must be set: without a condition nothing is retried")
	} else {
		for _, c := range strings.Split(r.RetryOn, ",") {
			c = strings.TrimSpace(c)
			conditions[c] = true
			if !retryOnConditions[c] {
				v.add(path+".retryOn", "unknown retry condition %q", c)
			}
		}
	}
	v.duration(path+".perTryTimeout", r.PerTryTimeout)
	v.duration(path+".baseInterval", r.BaseInterval)
	v.duration(path+".maxInterval", r.MaxInterval)
	if r.MaxInterval > 0 && r.BaseInterval <= 0 {
		v.add(path+".maxInterval", "requires baseInterval")
	}
	if r.BaseInterval > 0 && r.MaxInterval > 0 && r.MaxInterval < r.BaseInterval {
		v.add(path+".maxInterval", "must be at least baseInterval (%s), got %s", r.BaseInterval, r.MaxInterval)
	}
	for i, s := range r.RetriableStatusCodes {
		if s < 100 || s > 599 {
			v.add(fmt.Sprintf("%s.retriableStatusCodes[%d]", path, i), "must be in [100, 599], got %d", s)
		}
	}
	if len(r.RetriableStatusCodes) > 0 && !conditions["retriable-status-codes"] {
		v.add(path+".retryOn", "must include retriable-status-codes for retriableStatusCodes to apply")
	}
	for i, m := range r.RetriableMethods {
		if m == "" || strings.ContainsAny(m, " \t\x00\r\n") {
			v.add(fmt.Sprintf("%s.retriableMethods[%d]", path, i), "must be an HTTP method, got %q", m)
		}
	}
}

func (v *validator) tcpPolicies(path string, t TCPProxy) {
	v.duration(path+".idleTimeout", t.IdleTimeout)
	v.policyDecisions(path+".policies", t.Policies)
}

func (v *validator) policyDecisions(path string, ds []PolicyDecision) {
	for i, d := range ds {
		p := fmt.Sprintf("%s[%d]", path, i)
		v.set(p+".kind", d.Kind)
		for j, l := range d.Lost {
			v.set(fmt.Sprintf("%s.lost[%d].name", p, j), l.Name)
		}
	}
}
