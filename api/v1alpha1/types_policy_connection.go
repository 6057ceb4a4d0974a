package v1alpha1

import (
	"strings"
	"time"
)

// Kuma's source/destination connection policies (api/mesh/v1alpha1/{circuit_breaker,
// health_check,rate_limit,retry,timeout}.proto). Field names are the protos' JSON names; the
// decoder also accepts their snake_case proto names. Wrapper types (google.protobuf.UInt32Value
// and the like) are pointers, nil when unset.

// Duration is a google.protobuf.Duration as Kuma's YAML and JSON write it, read by
// ParseDuration (`5s`, `1.5s`, `100ms`, `1m`); empty means unset.
type Duration string

// Get returns the duration and true when it is set and parses. Validation rejects durations that
// do not parse, so for a valid resource false means unset.
func (d Duration) Get() (time.Duration, bool) {
	if d == "" {
		return 0, false
	}
	v, err := ParseDuration(string(d))
	if err != nil {
		return 0, false
	}
	return v, true
}

// CircuitBreaker configures the connection limits and the outlier detection of the clusters of
// the services its destinations match, for the dataplanes its sources match.
type CircuitBreaker struct {
	Meta `json:"-"`
	Spec CircuitBreakerSpec
}

type CircuitBreakerSpec struct {
	Sources      []Selector          `json:"sources"`
	Destinations []Selector          `json:"destinations"`
	Conf         *CircuitBreakerConf `json:"conf"`
}

func (c *CircuitBreaker) SourceSelectors() []map[string]string {
	return selectorMaps(c.Spec.Sources)
}

func (c *CircuitBreaker) DestinationSelectors() []map[string]string {
	return selectorMaps(c.Spec.Destinations)
}

// CircuitBreakerConf: Interval, BaseEjectionTime, MaxEjectionPercent and
// SplitExternalAndLocalErrors tune Envoy's outlier detection, which Detectors enable;
// Thresholds are Envoy's circuit breaker thresholds.
type CircuitBreakerConf struct {
	Interval         Duration `json:"interval,omitempty"`
	BaseEjectionTime Duration `json:"baseEjectionTime,omitempty"`
	// MaxEjectionPercent is in [0, 100].
	MaxEjectionPercent          *uint32                   `json:"maxEjectionPercent,omitempty"`
	SplitExternalAndLocalErrors bool                      `json:"splitExternalAndLocalErrors,omitempty"`
	Detectors                   *CircuitBreakerDetectors  `json:"detectors,omitempty"`
	Thresholds                  *CircuitBreakerThresholds `json:"thresholds,omitempty"`
}

// HasDetectors reports whether any detector is configured (Kuma's HasDetectors).
func (c *CircuitBreakerConf) HasDetectors() bool {
	if c == nil || c.Detectors == nil {
		return false
	}
	d := c.Detectors
	return d.TotalErrors != nil || d.GatewayErrors != nil || d.LocalErrors != nil ||
		d.StandardDeviation != nil || d.Failure != nil
}

// HasThresholds reports whether any threshold is configured (Kuma's HasThresholds).
func (c *CircuitBreakerConf) HasThresholds() bool {
	if c == nil || c.Thresholds == nil {
		return false
	}
	t := c.Thresholds
	return t.MaxConnections != nil || t.MaxPendingRequests != nil || t.MaxRetries != nil || t.MaxRequests != nil
}

type CircuitBreakerDetectors struct {
	// TotalErrors counts 5xx and locally originated errors (only 5xx in split mode).
	TotalErrors *CircuitBreakerErrors `json:"totalErrors,omitempty"`
	// GatewayErrors counts 502, 503 and 504.
	GatewayErrors *CircuitBreakerErrors `json:"gatewayErrors,omitempty"`
	// LocalErrors counts locally originated errors; only in split mode.
	LocalErrors       *CircuitBreakerErrors            `json:"localErrors,omitempty"`
	StandardDeviation *CircuitBreakerStandardDeviation `json:"standardDeviation,omitempty"`
	Failure           *CircuitBreakerFailure           `json:"failure,omitempty"`
}

// CircuitBreakerErrors ejects a host after Consecutive errors of its kind.
type CircuitBreakerErrors struct {
	Consecutive *uint32 `json:"consecutive,omitempty"`
}

// CircuitBreakerStandardDeviation ejects hosts whose success rate is below
// mean - stdev × Factor.
type CircuitBreakerStandardDeviation struct {
	RequestVolume *uint32  `json:"requestVolume,omitempty"`
	MinimumHosts  *uint32  `json:"minimumHosts,omitempty"`
	Factor        *float64 `json:"factor,omitempty"`
}

// CircuitBreakerFailure ejects hosts whose failure percentage reaches Threshold (in [0, 100]).
type CircuitBreakerFailure struct {
	RequestVolume *uint32 `json:"requestVolume,omitempty"`
	MinimumHosts  *uint32 `json:"minimumHosts,omitempty"`
	Threshold     *uint32 `json:"threshold,omitempty"`
}

type CircuitBreakerThresholds struct {
	MaxConnections     *uint32 `json:"maxConnections,omitempty"`
	MaxPendingRequests *uint32 `json:"maxPendingRequests,omitempty"`
	MaxRetries         *uint32 `json:"maxRetries,omitempty"`
	MaxRequests        *uint32 `json:"maxRequests,omitempty"`
}

// HealthCheck configures active health checking of the services its destinations match, by the
// dataplanes its sources match.
type HealthCheck struct {
	Meta `json:"-"`
	Spec HealthCheckSpec
}

type HealthCheckSpec struct {
	Sources      []Selector       `json:"sources"`
	Destinations []Selector       `json:"destinations"`
	Conf         *HealthCheckConf `json:"conf"`
}

func (h *HealthCheck) SourceSelectors() []map[string]string {
	return selectorMaps(h.Spec.Sources)
}

func (h *HealthCheck) DestinationSelectors() []map[string]string {
	return selectorMaps(h.Spec.Destinations)
}

type HealthCheckConf struct {
	// Interval and Timeout are required and positive.
	Interval Duration `json:"interval"`
	Timeout  Duration `json:"timeout"`
	// UnhealthyThreshold and HealthyThreshold are required and positive.
	UnhealthyThreshold    uint32   `json:"unhealthyThreshold"`
	HealthyThreshold      uint32   `json:"healthyThreshold"`
	InitialJitter         Duration `json:"initialJitter,omitempty"`
	IntervalJitter        Duration `json:"intervalJitter,omitempty"`
	IntervalJitterPercent uint32   `json:"intervalJitterPercent,omitempty"`
	// HealthyPanicThreshold is a percentage in [0, 100]; Envoy's default (50) when nil.
	HealthyPanicThreshold        *float64 `json:"healthyPanicThreshold,omitempty"`
	FailTrafficOnPanic           *bool    `json:"failTrafficOnPanic,omitempty"`
	EventLogPath                 string   `json:"eventLogPath,omitempty"`
	AlwaysLogHealthCheckFailures *bool    `json:"alwaysLogHealthCheckFailures,omitempty"`
	NoTrafficInterval            Duration `json:"noTrafficInterval,omitempty"`
	// TCP and HTTP are exclusive; with neither the check is a plain TCP connect.
	TCP  *HealthCheckTCP  `json:"tcp,omitempty"`
	HTTP *HealthCheckHTTP `json:"http,omitempty"`
	// ReuseConnection defaults to true.
	ReuseConnection *bool `json:"reuseConnection,omitempty"`
}

// HealthCheckTCP sends Send and expects each Receive block, in order, in the response. Both are
// base64 (google.protobuf.BytesValue in JSON).
type HealthCheckTCP struct {
	Send    string   `json:"send,omitempty"`
	Receive []string `json:"receive,omitempty"`
}

// SendBytes decodes Send; nil when unset.
func (t *HealthCheckTCP) SendBytes() ([]byte, error) {
	if t == nil || t.Send == "" {
		return nil, nil
	}
	return DecodeBase64(t.Send)
}

// ReceiveBytes decodes Receive.
func (t *HealthCheckTCP) ReceiveBytes() ([][]byte, error) {
	if t == nil {
		return nil, nil
	}
	out := make([][]byte, 0, len(t.Receive))
	for _, r := range t.Receive {
		b, err := DecodeBase64(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

type HealthCheckHTTP struct {
	// Path is required.
	Path                string                         `json:"path"`
	RequestHeadersToAdd []HealthCheckHeaderValueOption `json:"requestHeadersToAdd,omitempty"`
	// ExpectedStatuses are in [100, 600); Envoy expects 200 when empty.
	ExpectedStatuses []uint32 `json:"expectedStatuses,omitempty"`
}

type HealthCheckHeaderValueOption struct {
	Header *HealthCheckHeaderValue `json:"header"`
	// Append defaults to true.
	Append *bool `json:"append,omitempty"`
}

type HealthCheckHeaderValue struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// RateLimit limits the rate of HTTP requests the services its destinations match accept from
// the dataplanes its sources match.
type RateLimit struct {
	Meta `json:"-"`
	Spec RateLimitSpec
}

type RateLimitSpec struct {
	Sources      []Selector     `json:"sources"`
	Destinations []Selector     `json:"destinations"`
	Conf         *RateLimitConf `json:"conf"`
}

func (r *RateLimit) SourceSelectors() []map[string]string {
	return selectorMaps(r.Spec.Sources)
}

func (r *RateLimit) DestinationSelectors() []map[string]string {
	return selectorMaps(r.Spec.Destinations)
}

// RateLimitConf without HTTP limits nothing (Kuma accepts it).
type RateLimitConf struct {
	HTTP *RateLimitHTTP `json:"http,omitempty"`
}

// RateLimitHTTP allows Requests requests per Interval: a token bucket of Requests tokens,
// refilled every Interval.
type RateLimitHTTP struct {
	Requests    uint32                `json:"requests"`
	Interval    Duration              `json:"interval"`
	OnRateLimit *RateLimitOnRateLimit `json:"onRateLimit,omitempty"`
}

// RateLimitOnRateLimit is the response to a limited request: Status (Envoy's 429 when nil) and
// extra Headers.
type RateLimitOnRateLimit struct {
	Status  *uint32           `json:"status,omitempty"`
	Headers []RateLimitHeader `json:"headers,omitempty"`
}

type RateLimitHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Append defaults to true (Envoy's default).
	Append *bool `json:"append,omitempty"`
}

// Retry configures the retries of the dataplanes its sources match towards the services its
// destinations match. Which section applies depends on the destination's protocol.
type Retry struct {
	Meta `json:"-"`
	Spec RetrySpec
}

type RetrySpec struct {
	Sources      []Selector `json:"sources"`
	Destinations []Selector `json:"destinations"`
	Conf         *RetryConf `json:"conf"`
}

func (r *Retry) SourceSelectors() []map[string]string {
	return selectorMaps(r.Spec.Sources)
}

func (r *Retry) DestinationSelectors() []map[string]string {
	return selectorMaps(r.Spec.Destinations)
}

// RetryConf holds at least one section.
type RetryConf struct {
	HTTP *RetryHTTP `json:"http,omitempty"`
	TCP  *RetryTCP  `json:"tcp,omitempty"`
	GRPC *RetryGRPC `json:"grpc,omitempty"`
}

// RetryBackOff is Envoy's retry back-off: BaseInterval is required; MaxInterval (10 ×
// BaseInterval when unset) is at least BaseInterval.
type RetryBackOff struct {
	BaseInterval Duration `json:"baseInterval"`
	MaxInterval  Duration `json:"maxInterval,omitempty"`
}

type RetryHTTP struct {
	NumRetries           *uint32       `json:"numRetries,omitempty"`
	PerTryTimeout        Duration      `json:"perTryTimeout,omitempty"`
	BackOff              *RetryBackOff `json:"backOff,omitempty"`
	RetriableStatusCodes []uint32      `json:"retriableStatusCodes,omitempty"`
	RetriableMethods     []HTTPMethod  `json:"retriableMethods,omitempty"`
	RetryOn              []HTTPRetryOn `json:"retryOn,omitempty"`
}

type RetryTCP struct {
	// MaxConnectAttempts is positive.
	MaxConnectAttempts uint32 `json:"maxConnectAttempts"`
}

type RetryGRPC struct {
	RetryOn       []GRPCRetryOn `json:"retryOn,omitempty"`
	NumRetries    *uint32       `json:"numRetries,omitempty"`
	PerTryTimeout Duration      `json:"perTryTimeout,omitempty"`
	BackOff       *RetryBackOff `json:"backOff,omitempty"`
}

// HTTPMethod is Kuma's HttpMethod enum; `NONE` decodes to "" and is reported by validation.
type HTTPMethod string

const (
	MethodCONNECT HTTPMethod = "CONNECT"
	MethodDELETE  HTTPMethod = "DELETE"
	MethodGET     HTTPMethod = "GET"
	MethodHEAD    HTTPMethod = "HEAD"
	MethodOPTIONS HTTPMethod = "OPTIONS"
	MethodPATCH   HTTPMethod = "PATCH"
	MethodPOST    HTTPMethod = "POST"
	MethodPUT     HTTPMethod = "PUT"
	MethodTRACE   HTTPMethod = "TRACE"
)

// HTTPRetryOn is Kuma's HttpRetryOn enum: Envoy's x-envoy-retry-on conditions.
type HTTPRetryOn string

const (
	HTTPRetryOnAll5xx                  HTTPRetryOn = "all_5xx"
	HTTPRetryOnGatewayError            HTTPRetryOn = "gateway_error"
	HTTPRetryOnReset                   HTTPRetryOn = "reset"
	HTTPRetryOnConnectFailure          HTTPRetryOn = "connect_failure"
	HTTPRetryOnEnvoyRatelimited        HTTPRetryOn = "envoy_ratelimited"
	HTTPRetryOnRetriable4xx            HTTPRetryOn = "retriable_4xx"
	HTTPRetryOnRefusedStream           HTTPRetryOn = "refused_stream"
	HTTPRetryOnRetriableStatusCodes    HTTPRetryOn = "retriable_status_codes"
	HTTPRetryOnRetriableHeaders        HTTPRetryOn = "retriable_headers"
	HTTPRetryOnHTTP3PostConnectFailure HTTPRetryOn = "http3_post_connect_failure"
)

// EnvoyName is the condition as Envoy's retry_on spells it: `5xx` for all_5xx, otherwise the
// name with dashes (`gateway-error`, `retriable-status-codes`), as Kuma translates it.
func (r HTTPRetryOn) EnvoyName() string {
	if r == HTTPRetryOnAll5xx {
		return "5xx"
	}
	return strings.ReplaceAll(string(r), "_", "-")
}

// GRPCRetryOn is Kuma's Retry.Conf.Grpc.RetryOn enum: gRPC status conditions.
type GRPCRetryOn string

const (
	GRPCRetryOnCancelled         GRPCRetryOn = "cancelled"
	GRPCRetryOnDeadlineExceeded  GRPCRetryOn = "deadline_exceeded"
	GRPCRetryOnInternal          GRPCRetryOn = "internal"
	GRPCRetryOnResourceExhausted GRPCRetryOn = "resource_exhausted"
	GRPCRetryOnUnavailable       GRPCRetryOn = "unavailable"
)

// EnvoyName is the condition as Envoy's retry_on spells it (`deadline-exceeded`).
func (r GRPCRetryOn) EnvoyName() string { return strings.ReplaceAll(string(r), "_", "-") }

func init() {
	registerEnum([]HTTPMethod{MethodCONNECT, MethodDELETE, MethodGET, MethodHEAD, MethodOPTIONS,
		MethodPATCH, MethodPOST, MethodPUT, MethodTRACE}, "NONE")
	registerEnum([]HTTPRetryOn{HTTPRetryOnAll5xx, HTTPRetryOnGatewayError, HTTPRetryOnReset,
		HTTPRetryOnConnectFailure, HTTPRetryOnEnvoyRatelimited, HTTPRetryOnRetriable4xx,
		HTTPRetryOnRefusedStream, HTTPRetryOnRetriableStatusCodes, HTTPRetryOnRetriableHeaders,
		HTTPRetryOnHTTP3PostConnectFailure})
	registerEnum([]GRPCRetryOn{GRPCRetryOnCancelled, GRPCRetryOnDeadlineExceeded, GRPCRetryOnInternal,
		GRPCRetryOnResourceExhausted, GRPCRetryOnUnavailable})
}

// Timeout configures the timeouts of the connections from the dataplanes its sources match to
// the services its destinations match.
type Timeout struct {
	Meta `json:"-"`
	Spec TimeoutSpec
}

type TimeoutSpec struct {
	Sources      []Selector   `json:"sources"`
	Destinations []Selector   `json:"destinations"`
	Conf         *TimeoutConf `json:"conf"`
}

func (t *Timeout) SourceSelectors() []map[string]string {
	return selectorMaps(t.Spec.Sources)
}

func (t *Timeout) DestinationSelectors() []map[string]string {
	return selectorMaps(t.Spec.Destinations)
}

type TimeoutConf struct {
	ConnectTimeout Duration     `json:"connectTimeout,omitempty"`
	TCP            *TimeoutTCP  `json:"tcp,omitempty"`
	HTTP           *TimeoutHTTP `json:"http,omitempty"`
	// GRPC is deprecated in Kuma in favour of HTTP's StreamIdleTimeout and MaxStreamDuration,
	// which take precedence over it (see HTTPStreamIdleTimeout and HTTPMaxStreamDuration).
	GRPC *TimeoutGRPC `json:"grpc,omitempty"`
}

type TimeoutTCP struct {
	IdleTimeout Duration `json:"idleTimeout,omitempty"`
}

type TimeoutHTTP struct {
	RequestTimeout    Duration `json:"requestTimeout,omitempty"`
	IdleTimeout       Duration `json:"idleTimeout,omitempty"`
	StreamIdleTimeout Duration `json:"streamIdleTimeout,omitempty"`
	MaxStreamDuration Duration `json:"maxStreamDuration,omitempty"`
}

type TimeoutGRPC struct {
	StreamIdleTimeout Duration `json:"streamIdleTimeout,omitempty"`
	MaxStreamDuration Duration `json:"maxStreamDuration,omitempty"`
}

// The accessors below are nil-safe: on a nil conf or section they report unset. A duration of
// zero is returned as set; what zero means (usually "disabled") is for Envoy to say.

// ConnectTimeoutOrDefault is connectTimeout, or def when unset (Kuma's GetConnectTimeoutOrDefault).
func (c *TimeoutConf) ConnectTimeoutOrDefault(def time.Duration) time.Duration {
	if c == nil {
		return def
	}
	if d, ok := c.ConnectTimeout.Get(); ok {
		return d
	}
	return def
}

// TCPIdleTimeout is tcp.idleTimeout.
func (c *TimeoutConf) TCPIdleTimeout() (time.Duration, bool) {
	if c == nil || c.TCP == nil {
		return 0, false
	}
	return c.TCP.IdleTimeout.Get()
}

// HTTPRequestTimeout is http.requestTimeout.
func (c *TimeoutConf) HTTPRequestTimeout() (time.Duration, bool) {
	if c == nil || c.HTTP == nil {
		return 0, false
	}
	return c.HTTP.RequestTimeout.Get()
}

// HTTPIdleTimeout is http.idleTimeout.
func (c *TimeoutConf) HTTPIdleTimeout() (time.Duration, bool) {
	if c == nil || c.HTTP == nil {
		return 0, false
	}
	return c.HTTP.IdleTimeout.Get()
}

// HTTPStreamIdleTimeout is http.streamIdleTimeout, else the deprecated grpc.streamIdleTimeout
// (Kuma's GetHTTPStreamIdleTimeout).
func (c *TimeoutConf) HTTPStreamIdleTimeout() (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	if c.HTTP != nil {
		if d, ok := c.HTTP.StreamIdleTimeout.Get(); ok {
			return d, true
		}
	}
	if c.GRPC != nil {
		return c.GRPC.StreamIdleTimeout.Get()
	}
	return 0, false
}

// HTTPMaxStreamDuration is http.maxStreamDuration, else the deprecated grpc.maxStreamDuration
// (Kuma's GetHTTPMaxStreamDuration).
func (c *TimeoutConf) HTTPMaxStreamDuration() (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	if c.HTTP != nil {
		if d, ok := c.HTTP.MaxStreamDuration.Get(); ok {
			return d, true
		}
	}
	if c.GRPC != nil {
		return c.GRPC.MaxStreamDuration.Get()
	}
	return 0, false
}
