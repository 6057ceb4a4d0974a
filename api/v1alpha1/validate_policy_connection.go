package v1alpha1

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Validation of Kuma's connection policies follows Kuma's validators (pkg/core/resources/apis/
// mesh/{circuit_breaker,health_check,rate_limit,retry,timeout}_validator.go) and keeps their
// messages. Like FaultInjection's, it adds the rules Envoy enforces and Kuma does not, so that a
// valid policy never produces a rejected cluster or route; each Validate lists them.
// Durations Kuma would fail to decode are reported as "has to be a valid format".

// Kuma's retry validator messages, shared by the other validators that use them.
const (
	emptyFieldViolation                     = "field cannot be empty"
	hasToBeDefinedViolation                 = "has to be defined"
	hasToBeGreaterThan0Violation            = "has to be greater than 0"
	whenDefinedHasToBeGreaterThan0Violation = "has to be greater than 0 when defined"
	mustHavePositiveValue                   = "must have a positive value"
)

// policyDuration parses a set duration, reporting one that does not parse.
func (v *validator) policyDuration(path string, d Duration) (time.Duration, bool) {
	x, err := ParseDuration(string(d))
	if err != nil {
		v.add(path, "has to be a valid format")
		return 0, false
	}
	return x, true
}

// requiredDuration checks a duration that must be set and positive.
func (v *validator) requiredDuration(path string, d Duration, missing, notPositive string) (time.Duration, bool) {
	if d == "" {
		v.add(path, missing)
		return 0, false
	}
	x, ok := v.policyDuration(path, d)
	if ok && x <= 0 {
		v.add(path, notPositive)
		return x, false
	}
	return x, ok
}

// optionalDuration checks a duration that, when set, must be positive.
func (v *validator) optionalDuration(path string, d Duration, notPositive string) (time.Duration, bool) {
	if d == "" {
		return 0, false
	}
	x, ok := v.policyDuration(path, d)
	if ok && x <= 0 {
		v.add(path, notPositive)
		return x, false
	}
	return x, ok
}

// nonNegativeDuration checks a duration that, when set, may be zero (Envoy: disabled) but not
// negative (Envoy rejects negative durations).
func (v *validator) nonNegativeDuration(path string, d Duration) {
	if d == "" {
		return
	}
	if x, ok := v.policyDuration(path, d); ok && x < 0 {
		v.add(path, "must not be negative")
	}
}

// Validate checks a CircuitBreaker with Kuma's rules, plus Envoy's: positive interval and
// baseEjectionTime, and a standardDeviation factor Envoy can represent (it takes factor × 1000
// as an unsigned 32-bit integer).
func (c *CircuitBreaker) Validate() ErrorList {
	var v validator
	v.meta(&c.Meta)
	v.selectors("sources", c.Spec.Sources, false, sourceRules(true))
	v.selectors("destinations", c.Spec.Destinations, false, onlyServiceRules)
	v.circuitBreakerConf("conf", c.Spec.Conf)
	return v.errs
}

func (v *validator) circuitBreakerConf(path string, c *CircuitBreakerConf) {
	if !c.HasDetectors() && !c.HasThresholds() {
		v.add(path, "must have at least one of the detector or threshold configured")
		return
	}
	if c.Detectors != nil && !c.HasDetectors() {
		v.add(joinField(path, "detectors"), "can't be empty")
	}
	if c.Thresholds != nil && !c.HasThresholds() {
		v.add(joinField(path, "thresholds"), "can't be empty")
	}
	v.optionalDuration(joinField(path, "interval"), c.Interval, whenDefinedHasToBeGreaterThan0Violation)
	v.optionalDuration(joinField(path, "baseEjectionTime"), c.BaseEjectionTime, whenDefinedHasToBeGreaterThan0Violation)
	v.uint32Percentage(joinField(path, "maxEjectionPercent"), c.MaxEjectionPercent)
	if d := c.Detectors; d != nil {
		dp := joinField(path, "detectors")
		if f := d.Failure; f != nil {
			v.uint32Percentage(joinField(joinField(dp, "failure"), "threshold"), f.Threshold)
		}
		if s := d.StandardDeviation; s != nil && s.Factor != nil {
			fp := joinField(joinField(dp, "standardDeviation"), "factor")
			switch f := *s.Factor; {
			case math.IsNaN(f) || f < 0:
				v.add(fp, "has to be a non-negative number")
			case f*1000 > math.MaxUint32:
				v.add(fp, "has to be at most 4294967.295")
			}
		}
	}
}

func (v *validator) uint32Percentage(path string, p *uint32) {
	if p != nil && *p > 100 {
		v.add(path, "has to be in [0.0 - 100.0] range")
	}
}

// Validate checks a HealthCheck with Kuma's rules, plus meshgate's: request header names must be
// HTTP tokens (RFC 9110), where Kuma only requires them to be non-empty.
func (h *HealthCheck) Validate() ErrorList {
	var v validator
	v.meta(&h.Meta)
	v.selectors("sources", h.Spec.Sources, false, sourceRules(true))
	v.selectors("destinations", h.Spec.Destinations, false, onlyServiceRules)
	v.healthCheckConf("conf", h.Spec.Conf)
	return v.errs
}

func (v *validator) healthCheckConf(path string, c *HealthCheckConf) {
	if c == nil {
		v.add(path, hasToBeDefinedViolation)
		return
	}
	v.requiredDuration(joinField(path, "interval"), c.Interval, mustHavePositiveValue, mustHavePositiveValue)
	v.requiredDuration(joinField(path, "timeout"), c.Timeout, mustHavePositiveValue, mustHavePositiveValue)
	if c.UnhealthyThreshold == 0 {
		v.add(joinField(path, "unhealthyThreshold"), mustHavePositiveValue)
	}
	if c.HealthyThreshold == 0 {
		v.add(joinField(path, "healthyThreshold"), mustHavePositiveValue)
	}
	v.optionalDuration(joinField(path, "initialJitter"), c.InitialJitter, mustHavePositiveValue)
	v.optionalDuration(joinField(path, "intervalJitter"), c.IntervalJitter, mustHavePositiveValue)
	v.optionalDuration(joinField(path, "noTrafficInterval"), c.NoTrafficInterval, mustHavePositiveValue)
	if p := c.HealthyPanicThreshold; p != nil && (math.IsNaN(*p) || *p < 0 || *p > 100) {
		v.add(joinField(path, "healthyPanicThreshold"), "must be in range [0.0 - 100.0]")
	}
	if t := c.TCP; t != nil {
		tp := joinField(path, "tcp")
		if t.Send != "" && !validBase64(t.Send) {
			v.add(joinField(tp, "send"), "must be valid base64")
		}
		for i, r := range t.Receive {
			if !validBase64(r) {
				v.add(joinIndex(joinField(tp, "receive"), i), "must be valid base64")
			}
		}
	}
	if hp := c.HTTP; hp != nil {
		p := joinField(path, "http")
		if hp.Path == "" {
			v.add(joinField(p, "path"), "has to be defined and cannot be empty")
		}
		for i, s := range hp.ExpectedStatuses {
			if s < 100 || s >= 600 {
				v.add(joinIndex(joinField(p, "expectedStatuses"), i), "must be in range [100, 600)")
			}
		}
		for i, h := range hp.RequestHeadersToAdd {
			hdr := joinField(joinIndex(joinField(p, "requestHeadersToAdd"), i), "header")
			if h.Header == nil {
				v.add(hdr, hasToBeDefinedViolation)
				continue
			}
			v.headerName(joinField(hdr, "key"), h.Header.Key, false)
		}
	}
	if c.TCP != nil && c.HTTP != nil {
		v.add(path, "http and tcp cannot be defined at the same time")
	}
}

// Validate checks a RateLimit with Kuma's rules (which require no particular tag), plus
// Envoy's: an interval of at least 50ms (the local rate limit filter's smallest fill interval;
// Kuma's MeshRateLimit has the same rule and message) and an on-rate-limit status in Envoy's
// StatusCode enum; and meshgate's: header names must be HTTP tokens (RFC 9110).
func (r *RateLimit) Validate() ErrorList {
	var v validator
	v.meta(&r.Meta)
	v.selectors("sources", r.Spec.Sources, false, sourceRules(false))
	v.selectors("destinations", r.Spec.Destinations, false, destinationRules)
	if r.Spec.Conf == nil {
		v.add("conf", "must have conf")
	} else if h := r.Spec.Conf.HTTP; h != nil {
		v.rateLimitHTTP("conf.http", h)
	}
	return v.errs
}

// minRateLimitInterval is Envoy's smallest token bucket fill interval for local rate limits.
const minRateLimitInterval = 50 * time.Millisecond

func (v *validator) rateLimitHTTP(path string, h *RateLimitHTTP) {
	if h.Requests == 0 {
		v.add(joinField(path, "requests"), "requests must be set")
	}
	ip := joinField(path, "interval")
	if h.Interval == "" {
		v.add(ip, "interval must be set")
	} else if d, ok := v.policyDuration(ip, h.Interval); ok && d < minRateLimitInterval {
		v.add(ip, "must be greater than or equal to: 50ms")
	}
	o := h.OnRateLimit
	if o == nil {
		return
	}
	op := joinField(path, "onRateLimit")
	if s := o.Status; s != nil {
		switch {
		case *s < 100 || *s > 599:
			v.add(joinField(op, "status"), "must be in the range [100, 599]")
		case !envoyStatusCodes[*s]:
			v.add(joinField(op, "status"), "is not a status code Envoy accepts")
		}
	}
	for i, hd := range o.Headers {
		hp := joinIndex(joinField(op, "headers"), i)
		if hd.Key == "" {
			v.add(joinField(hp, "key"), "key must be set")
		} else {
			v.headerName(joinField(hp, "key"), hd.Key, false)
		}
		if hd.Value == "" {
			v.add(joinField(hp, "value"), "value must be set")
		}
	}
}

// envoyStatusCodes are the values of Envoy's type.v3.StatusCode, the only statuses its local
// rate limit filter accepts.
var envoyStatusCodes = func() map[uint32]bool {
	m := map[uint32]bool{100: true, 226: true, 421: true, 422: true, 423: true, 424: true, 426: true,
		428: true, 429: true, 431: true, 510: true, 511: true}
	for _, r := range [][2]uint32{{200, 208}, {300, 305}, {307, 308}, {400, 417}, {500, 508}} {
		for s := r[0]; s <= r[1]; s++ {
			m[s] = true
		}
	}
	return m
}()

// Validate checks a Retry with Kuma's rules, plus Envoy's: a back-off maxInterval of at least
// its baseInterval; and meshgate's: retriable status codes in [100, 599].
func (r *Retry) Validate() ErrorList {
	var v validator
	v.meta(&r.Meta)
	v.selectors("sources", r.Spec.Sources, false, sourceRules(true))
	v.selectors("destinations", r.Spec.Destinations, false, onlyServiceRules)
	v.retryConf("conf", r.Spec.Conf)
	return v.errs
}

func (v *validator) retryConf(path string, c *RetryConf) {
	if c == nil {
		v.add(path, hasToBeDefinedViolation)
		return
	}
	if c.HTTP == nil && c.GRPC == nil && c.TCP == nil {
		v.add(path, "missing protocol [grpc|http|tcp] configuration")
		return
	}
	if h := c.HTTP; h != nil {
		p := joinField(path, "http")
		if h.NumRetries == nil && h.PerTryTimeout == "" && h.BackOff == nil && len(h.RetriableStatusCodes) == 0 &&
			len(h.RetriableMethods) == 0 && len(h.RetryOn) == 0 {
			v.add(p, emptyFieldViolation)
		}
		v.retryCommon(p, h.NumRetries, h.PerTryTimeout, h.BackOff)
		for i, s := range h.RetriableStatusCodes {
			if s < 100 || s > 599 {
				v.add(joinIndex(joinField(p, "retriableStatusCodes"), i), "must be in the range [100, 599]")
			}
		}
		for i, m := range h.RetriableMethods {
			if m == "" {
				v.add(joinIndex(joinField(p, "retriableMethods"), i), emptyFieldViolation)
			}
		}
		for i, on := range h.RetryOn {
			if on == HTTPRetryOnRetriableStatusCodes && len(h.RetriableStatusCodes) == 0 {
				v.add(joinIndex(joinField(p, "retryOn"), i), "retriableStatusCodes cannot be empty when this option is specified")
			}
		}
	}
	if g := c.GRPC; g != nil {
		p := joinField(path, "grpc")
		if g.NumRetries == nil && g.PerTryTimeout == "" && g.BackOff == nil && len(g.RetryOn) == 0 {
			v.add(p, emptyFieldViolation)
		}
		for _, msg := range repeatedRetryOn(g.RetryOn) {
			v.add(joinField(p, "retryOn"), msg)
		}
		v.retryCommon(p, g.NumRetries, g.PerTryTimeout, g.BackOff)
	}
	if t := c.TCP; t != nil && t.MaxConnectAttempts == 0 {
		v.add(joinField(joinField(path, "tcp"), "maxConnectAttempts"), hasToBeGreaterThan0Violation)
	}
}

func (v *validator) retryCommon(path string, numRetries *uint32, perTryTimeout Duration, backOff *RetryBackOff) {
	if numRetries != nil && *numRetries == 0 {
		v.add(joinField(path, "numRetries"), whenDefinedHasToBeGreaterThan0Violation)
	}
	v.optionalDuration(joinField(path, "perTryTimeout"), perTryTimeout, whenDefinedHasToBeGreaterThan0Violation)
	if backOff == nil {
		return
	}
	bp := joinField(path, "backOff")
	base, ok := v.requiredDuration(joinField(bp, "baseInterval"), backOff.BaseInterval,
		hasToBeDefinedViolation, hasToBeGreaterThan0Violation)
	if !ok {
		// Kuma checks maxInterval only once baseInterval is valid.
		return
	}
	mp := joinField(bp, "maxInterval")
	if maxI, ok := v.optionalDuration(mp, backOff.MaxInterval, whenDefinedHasToBeGreaterThan0Violation); ok && maxI < base {
		v.add(mp, "must be greater than or equal to baseInterval")
	}
}

// repeatedRetryOn reports each gRPC condition listed more than once, with Kuma's message, sorted.
func repeatedRetryOn(values []GRPCRetryOn) []string {
	indexes := map[GRPCRetryOn][]string{}
	for i, on := range values {
		indexes[on] = append(indexes[on], fmt.Sprint(i))
	}
	var out []string
	for on, idx := range indexes {
		if len(idx) > 1 {
			out = append(out, fmt.Sprintf("repeated value %q at indexes [%s]", string(on), strings.Join(idx, ", ")))
		}
	}
	sort.Strings(out)
	return out
}

// Validate checks a Timeout with Kuma's rules, plus Envoy's: a positive connectTimeout and
// non-negative http.streamIdleTimeout and http.maxStreamDuration. As in Kuma, a tcp section
// needs idleTimeout and an http section requestTimeout or idleTimeout.
func (t *Timeout) Validate() ErrorList {
	var v validator
	v.meta(&t.Meta)
	v.selectors("sources", t.Spec.Sources, false, sourceRules(true))
	v.selectors("destinations", t.Spec.Destinations, false, onlyServiceRules)
	v.timeoutConf("conf", t.Spec.Conf)
	return v.errs
}

const atLeastOneTimeout = "at least one timeout in section has to be defined"

func (v *validator) timeoutConf(path string, c *TimeoutConf) {
	if c == nil {
		v.add(path, hasToBeDefinedViolation)
		return
	}
	v.optionalDuration(joinField(path, "connectTimeout"), c.ConnectTimeout, whenDefinedHasToBeGreaterThan0Violation)
	if t := c.TCP; t != nil {
		p := joinField(path, "tcp")
		if t.IdleTimeout == "" {
			v.add(p, atLeastOneTimeout)
		} else {
			v.optionalDuration(joinField(p, "idleTimeout"), t.IdleTimeout, hasToBeGreaterThan0Violation)
		}
	}
	if h := c.HTTP; h != nil {
		p := joinField(path, "http")
		if h.RequestTimeout == "" && h.IdleTimeout == "" {
			v.add(p, atLeastOneTimeout)
		} else {
			v.optionalDuration(joinField(p, "requestTimeout"), h.RequestTimeout, whenDefinedHasToBeGreaterThan0Violation)
			v.optionalDuration(joinField(p, "idleTimeout"), h.IdleTimeout, whenDefinedHasToBeGreaterThan0Violation)
		}
		v.nonNegativeDuration(joinField(p, "streamIdleTimeout"), h.StreamIdleTimeout)
		v.nonNegativeDuration(joinField(p, "maxStreamDuration"), h.MaxStreamDuration)
	}
	if g := c.GRPC; g != nil {
		p := joinField(path, "grpc")
		if g.StreamIdleTimeout == "" && g.MaxStreamDuration == "" {
			v.add(p, atLeastOneTimeout)
			return
		}
		v.optionalDuration(joinField(p, "streamIdleTimeout"), g.StreamIdleTimeout, whenDefinedHasToBeGreaterThan0Violation)
		v.optionalDuration(joinField(p, "maxStreamDuration"), g.MaxStreamDuration, whenDefinedHasToBeGreaterThan0Violation)
	}
}
