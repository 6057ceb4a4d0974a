package ir

import "time"

// PolicyDecision records, for explain and inspect, which policy of one kind applied to a
// route or cluster and which candidates lost and why. Translation stores it in the resource's
// io.meshgate metadata under `policies`.
type PolicyDecision struct {
	Kind string `json:"kind,omitempty"`
	// Applied is the winning policy's name; empty when a kind matched nothing but is reported
	// (an ignored kind such as TrafficRoute on a gateway).
	Applied string `json:"applied,omitempty"`
	// Note explains the choice or why the kind does nothing here.
	Note string       `json:"note,omitempty"`
	Lost []LostPolicy `json:"lost,omitempty"`
}

// LostPolicy is a candidate that matched but was not chosen.
type LostPolicy struct {
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// CircuitBreaker is Envoy's cluster circuit_breakers (default priority) plus outlier_detection.
// Zero thresholds keep Envoy's defaults.
type CircuitBreaker struct {
	MaxConnections     uint32            `json:"maxConnections,omitempty"`
	MaxPendingRequests uint32            `json:"maxPendingRequests,omitempty"`
	MaxRequests        uint32            `json:"maxRequests,omitempty"`
	MaxRetries         uint32            `json:"maxRetries,omitempty"`
	Outlier            *OutlierDetection `json:"outlier,omitempty"`
}

// OutlierDetection ejects failing endpoints. Nil detector fields are disabled (Envoy's
// enforcing percentage 0), as Kuma does for detectors the policy does not list.
type OutlierDetection struct {
	Interval                      time.Duration `json:"interval,omitempty"`
	BaseEjectionTime              time.Duration `json:"baseEjectionTime,omitempty"`
	MaxEjectionPercent            *uint32       `json:"maxEjectionPercent,omitempty"`
	SplitExternalLocalErrors      bool          `json:"splitExternalLocalErrors,omitempty"`
	Consecutive5xx                *uint32       `json:"consecutive5xx,omitempty"`
	ConsecutiveGatewayFailure     *uint32       `json:"consecutiveGatewayFailure,omitempty"`
	ConsecutiveLocalOriginFailure *uint32       `json:"consecutiveLocalOriginFailure,omitempty"`
	// SuccessRate: Envoy's success_rate_* (factor is stdev_factor ×1000 in Envoy).
	SuccessRate *OutlierStats `json:"successRate,omitempty"`
	// FailurePercentage: Envoy's failure_percentage_* (threshold in percent).
	FailurePercentage *OutlierStats `json:"failurePercentage,omitempty"`
}

type OutlierStats struct {
	RequestVolume uint32 `json:"requestVolume,omitempty"`
	MinimumHosts  uint32 `json:"minimumHosts,omitempty"`
	// Value is the stdev factor (success rate, e.g. 1.9) or the failure threshold percent.
	Value float64 `json:"value,omitempty"`
}

// HealthCheck is one active health check of a cluster: HTTP when HTTP is set, TCP otherwise.
type HealthCheck struct {
	Interval              time.Duration `json:"interval,omitempty"`
	Timeout               time.Duration `json:"timeout,omitempty"`
	UnhealthyThreshold    uint32        `json:"unhealthyThreshold,omitempty"`
	HealthyThreshold      uint32        `json:"healthyThreshold,omitempty"`
	InitialJitter         time.Duration `json:"initialJitter,omitempty"`
	IntervalJitter        time.Duration `json:"intervalJitter,omitempty"`
	IntervalJitterPercent uint32        `json:"intervalJitterPercent,omitempty"`
	NoTrafficInterval     time.Duration `json:"noTrafficInterval,omitempty"`
	// HealthyPanicThreshold is a percentage; nil keeps Envoy's 50 %.
	HealthyPanicThreshold *float64         `json:"healthyPanicThreshold,omitempty"`
	FailTrafficOnPanic    bool             `json:"failTrafficOnPanic,omitempty"`
	ReuseConnection       *bool            `json:"reuseConnection,omitempty"`
	EventLogPath          string           `json:"eventLogPath,omitempty"`
	AlwaysLogFailures     bool             `json:"alwaysLogFailures,omitempty"`
	HTTP                  *HTTPHealthCheck `json:"http,omitempty"`
	TCP                   *TCPHealthCheck  `json:"tcp,omitempty"`
}

type HTTPHealthCheck struct {
	Path string `json:"path,omitempty"`
	// RequestHeaders are added to each check request; Append false overwrites.
	RequestHeaders   []HealthCheckHeader `json:"requestHeaders,omitempty"`
	ExpectedStatuses []uint32            `json:"expectedStatuses,omitempty"`
}

type HealthCheckHeader struct {
	Name   string `json:"name,omitempty"`
	Value  string `json:"value,omitempty"`
	Append bool   `json:"append,omitempty"`
}

// TCPHealthCheck sends Send (hex-free text) and expects every Receive chunk; empty is a
// connect-only check.
type TCPHealthCheck struct {
	Send    string   `json:"send,omitempty"`
	Receive []string `json:"receive,omitempty"`
}

// ClusterTimeouts are Timeout policy settings that live on the cluster: connect (in
// Cluster.ConnectTimeout) plus the HTTP connection pool's idle and stream limits.
type ClusterTimeouts struct {
	IdleTimeout       time.Duration `json:"idleTimeout,omitempty"`
	MaxStreamDuration time.Duration `json:"maxStreamDuration,omitempty"`
}

// RetryPolicy is an HTTP or gRPC route retry_policy.
type RetryPolicy struct {
	// RetryOn is Envoy's comma-separated retry_on (x-envoy-retry-on / x-envoy-retry-grpc-on).
	RetryOn              string        `json:"retryOn,omitempty"`
	NumRetries           uint32        `json:"numRetries,omitempty"`
	PerTryTimeout        time.Duration `json:"perTryTimeout,omitempty"`
	BaseInterval         time.Duration `json:"baseInterval,omitempty"`
	MaxInterval          time.Duration `json:"maxInterval,omitempty"`
	RetriableStatusCodes []uint32      `json:"retriableStatusCodes,omitempty"`
	// RetriableMethods limits retries to these request methods (a `:method` header match).
	RetriableMethods []string `json:"retriableMethods,omitempty"`
}

// LocalRateLimit is a per-route token bucket (envoy.filters.http.local_ratelimit in
// typed_per_filter_config): Requests tokens refilled every Interval, enforced 100 %.
type LocalRateLimit struct {
	Requests uint32        `json:"requests,omitempty"`
	Interval time.Duration `json:"interval,omitempty"`
	// Status replaces Envoy's 429 when set; Headers are set on the rate-limited response
	// (overwriting), AppendHeaders appended to any value already there.
	Status        uint32   `json:"status,omitempty"`
	Headers       []Header `json:"headers,omitempty"`
	AppendHeaders []Header `json:"appendHeaders,omitempty"`
}
