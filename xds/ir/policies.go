package ir

import "time"

// PolicyDecision records, for explain and inspect, which policy of one kind applied to a
// route or cluster and which candidates lost and why. Translation stores it in the resource's
// io.meshgate metadata under `policies`.
type PolicyDecision struct {
	Kind string
	// Applied is the winning policy's name; empty when a kind matched nothing but is reported
	// (an ignored kind such as TrafficRoute on a gateway).
	Applied string
	// Note explains the choice or why the kind does nothing here.
	Note string
	Lost []LostPolicy
}

// LostPolicy is a candidate that matched but was not chosen.
type LostPolicy struct {
	Name   string
	Reason string
}

// CircuitBreaker is Envoy's cluster circuit_breakers (default priority) plus outlier_detection.
// Zero thresholds keep Envoy's defaults.
type CircuitBreaker struct {
	MaxConnections     uint32
	MaxPendingRequests uint32
	MaxRequests        uint32
	MaxRetries         uint32
	Outlier            *OutlierDetection
}

// OutlierDetection ejects failing endpoints. Nil detector fields are disabled (Envoy's
// enforcing percentage 0), as Kuma does for detectors the policy does not list.
type OutlierDetection struct {
	Interval                      time.Duration
	BaseEjectionTime              time.Duration
	MaxEjectionPercent            *uint32
	SplitExternalLocalErrors      bool
	Consecutive5xx                *uint32
	ConsecutiveGatewayFailure     *uint32
	ConsecutiveLocalOriginFailure *uint32
	// SuccessRate: Envoy's success_rate_* (factor is stdev_factor ×1000 in Envoy).
	SuccessRate *OutlierStats
	// FailurePercentage: Envoy's failure_percentage_* (threshold in percent).
	FailurePercentage *OutlierStats
}

type OutlierStats struct {
	RequestVolume uint32
	MinimumHosts  uint32
	// Value is the stdev factor (success rate, e.g. 1.9) or the failure threshold percent.
	Value float64
}

// HealthCheck is one active health check of a cluster: HTTP when HTTP is set, TCP otherwise.
type HealthCheck struct {
	Interval              time.Duration
	Timeout               time.Duration
	UnhealthyThreshold    uint32
	HealthyThreshold      uint32
	InitialJitter         time.Duration
	IntervalJitter        time.Duration
	IntervalJitterPercent uint32
	NoTrafficInterval     time.Duration
	// HealthyPanicThreshold is a percentage; nil keeps Envoy's 50 %.
	HealthyPanicThreshold *float64
	FailTrafficOnPanic    bool
	ReuseConnection       *bool
	EventLogPath          string
	AlwaysLogFailures     bool
	HTTP                  *HTTPHealthCheck
	TCP                   *TCPHealthCheck
}

type HTTPHealthCheck struct {
	Path string
	// RequestHeaders are added to each check request; Append false overwrites.
	RequestHeaders   []HealthCheckHeader
	ExpectedStatuses []uint32
}

type HealthCheckHeader struct {
	Name   string
	Value  string
	Append bool
}

// TCPHealthCheck sends Send (hex-free text) and expects every Receive chunk; empty is a
// connect-only check.
type TCPHealthCheck struct {
	Send    string
	Receive []string
}

// ClusterTimeouts are Timeout policy settings that live on the cluster: connect (in
// Cluster.ConnectTimeout) plus the HTTP connection pool's idle and stream limits.
type ClusterTimeouts struct {
	IdleTimeout       time.Duration
	MaxStreamDuration time.Duration
}

// RetryPolicy is an HTTP or gRPC route retry_policy.
type RetryPolicy struct {
	// RetryOn is Envoy's comma-separated retry_on (x-envoy-retry-on / x-envoy-retry-grpc-on).
	RetryOn              string
	NumRetries           uint32
	PerTryTimeout        time.Duration
	BaseInterval         time.Duration
	MaxInterval          time.Duration
	RetriableStatusCodes []uint32
	// RetriableMethods limits retries to these request methods (a `:method` header match).
	RetriableMethods []string
}

// LocalRateLimit is a per-route token bucket (envoy.filters.http.local_ratelimit in
// typed_per_filter_config): Requests tokens refilled every Interval, enforced 100 %.
type LocalRateLimit struct {
	Requests uint32
	Interval time.Duration
	// Status replaces Envoy's 429 when set; Headers are set on the rate-limited response
	// (overwriting), AppendHeaders appended to any value already there.
	Status        uint32
	Headers       []Header
	AppendHeaders []Header
}
