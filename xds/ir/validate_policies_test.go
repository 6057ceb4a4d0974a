package ir_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func ptr[T any](v T) *T { return &v }

// policyProxy is validProxy with every connection-policy setting filled in, validly.
func policyProxy() *ir.Proxy {
	p := validProxy()
	decision := ir.PolicyDecision{Kind: "Retry", Applied: "r1", Note: "best match", Lost: []ir.LostPolicy{{Name: "r0", Reason: "less specific"}}}
	f := forwardOf(p)
	f.Retry = &ir.RetryPolicy{
		RetryOn: "gateway-error,connect-failure,retriable-status-codes", NumRetries: 3, PerTryTimeout: time.Second,
		BaseInterval: 25 * time.Millisecond, MaxInterval: 250 * time.Millisecond,
		RetriableStatusCodes: []uint32{503}, RetriableMethods: []string{"GET", "HEAD"},
	}
	f.RateLimit = &ir.LocalRateLimit{Requests: 10, Interval: time.Second, Status: 429, Headers: []ir.Header{{Name: "x-limited", Value: "1"}}}
	f.Policies = []ir.PolicyDecision{decision}
	api := clusterAt(p, 0)
	api.CircuitBreaker = &ir.CircuitBreaker{MaxConnections: 10, Outlier: &ir.OutlierDetection{
		Interval: 5 * time.Second, BaseEjectionTime: 30 * time.Second, MaxEjectionPercent: ptr(uint32(20)),
		Consecutive5xx:    ptr(uint32(5)),
		SuccessRate:       &ir.OutlierStats{RequestVolume: 10, MinimumHosts: 3, Value: 1.9},
		FailurePercentage: &ir.OutlierStats{RequestVolume: 10, MinimumHosts: 3, Value: 85},
	}}
	api.HealthChecks = []ir.HealthCheck{
		{Interval: 10 * time.Second, Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 1,
			HealthyPanicThreshold: ptr(60.0), HTTP: &ir.HTTPHealthCheck{Path: "/health", ExpectedStatuses: []uint32{200}}},
		{Interval: 10 * time.Second, Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 1,
			HealthyPanicThreshold: ptr(60.0), TCP: &ir.TCPHealthCheck{Send: "ping", Receive: []string{"pong"}}},
	}
	api.Timeouts = &ir.ClusterTimeouts{IdleTimeout: time.Hour, MaxStreamDuration: time.Minute}
	api.Policies = []ir.PolicyDecision{{Kind: "CircuitBreaker", Applied: "cb"}}
	tcp := tlsChain(p).TCP
	tcp.MaxConnectAttempts, tcp.IdleTimeout = 5, time.Minute
	tcp.Policies = []ir.PolicyDecision{{Kind: "Retry", Applied: "r"}, {Kind: "TrafficRoute", Note: "ignored on a gateway"}}
	return p
}

func TestValidateAcceptsPolicies(t *testing.T) {
	require.NoError(t, policyProxy().Validate())
	// Zero values keep Envoy's defaults and are valid too.
	p := validProxy()
	clusterAt(p, 0).CircuitBreaker = &ir.CircuitBreaker{Outlier: &ir.OutlierDetection{}}
	clusterAt(p, 0).Timeouts = &ir.ClusterTimeouts{}
	forwardOf(p).Retry = &ir.RetryPolicy{RetryOn: "5xx"}
	require.NoError(t, p.Validate())
}

func TestValidateRejectsPolicies(t *testing.T) {
	const (
		cl  = "clusters[0]"
		hc0 = cl + ".healthChecks[0]"
		od  = cl + ".circuitBreaker.outlier"
		fw  = r0 + ".forward"
	)
	hc := func(p *ir.Proxy) *ir.HealthCheck { return &clusterAt(p, 0).HealthChecks[0] }
	cases := []struct {
		name   string
		mutate func(p *ir.Proxy)
		want   string
	}{
		{"outlier negative interval", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.Interval = -1 }, od + ".interval: must not be negative"},
		{"outlier negative ejection", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.BaseEjectionTime = -1 }, od + ".baseEjectionTime: must not be negative"},
		{"outlier ejection percent", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.MaxEjectionPercent = ptr(uint32(101)) }, od + ".maxEjectionPercent: must be at most 100"},
		{"outlier stdev negative", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.SuccessRate.Value = -1 }, od + ".successRate.value: must be a stdev factor"},
		{"outlier stdev NaN", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.SuccessRate.Value = math.NaN() }, od + ".successRate.value: must be a stdev factor"},
		{"outlier stdev overflow", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.SuccessRate.Value = 5e6 }, od + ".successRate.value: must be a stdev factor"},
		{"outlier failure over 100", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.FailurePercentage.Value = 101 }, od + ".failurePercentage.value: must be a whole percentage"},
		{"outlier failure fraction", func(p *ir.Proxy) { clusterAt(p, 0).CircuitBreaker.Outlier.FailurePercentage.Value = 85.5 }, od + ".failurePercentage.value: must be a whole percentage"},
		{"hc zero interval", func(p *ir.Proxy) { hc(p).Interval = 0 }, hc0 + ".interval: must be positive"},
		{"hc zero timeout", func(p *ir.Proxy) { hc(p).Timeout = 0 }, hc0 + ".timeout: must be positive"},
		{"hc unhealthy threshold", func(p *ir.Proxy) { hc(p).UnhealthyThreshold = 0 }, hc0 + ".unhealthyThreshold: must be at least 1"},
		{"hc healthy threshold", func(p *ir.Proxy) { hc(p).HealthyThreshold = 0 }, hc0 + ".healthyThreshold: must be at least 1"},
		{"hc negative jitter", func(p *ir.Proxy) { hc(p).InitialJitter = -1 }, hc0 + ".initialJitter: must not be negative"},
		{"hc negative interval jitter", func(p *ir.Proxy) { hc(p).IntervalJitter = -1 }, hc0 + ".intervalJitter: must not be negative"},
		{"hc negative no traffic", func(p *ir.Proxy) { hc(p).NoTrafficInterval = -1 }, hc0 + ".noTrafficInterval: must not be negative"},
		{"hc panic threshold", func(p *ir.Proxy) { hc(p).HealthyPanicThreshold = ptr(101.0) }, hc0 + ".healthyPanicThreshold: must be a percentage in [0, 100]"},
		{"hc panic thresholds disagree", func(p *ir.Proxy) { clusterAt(p, 0).HealthChecks[1].HealthyPanicThreshold = ptr(50.0) },
			cl + ".healthChecks[1].healthyPanicThreshold: must equal " + hc0 + ".healthyPanicThreshold (60)"},
		{"hc event log newline", func(p *ir.Proxy) { hc(p).EventLogPath = "/tmp/a\n" }, hc0 + ".eventLogPath: must not contain NUL, CR or LF"},
		{"hc http and tcp", func(p *ir.Proxy) { hc(p).TCP = &ir.TCPHealthCheck{} }, hc0 + ": at most one of http and tcp"},
		{"hc path relative", func(p *ir.Proxy) { hc(p).HTTP.Path = "health" }, hc0 + `.http.path: must be an absolute path, got "health"`},
		{"hc path empty", func(p *ir.Proxy) { hc(p).HTTP.Path = "" }, hc0 + ".http.path: must be an absolute path"},
		{"hc path control", func(p *ir.Proxy) { hc(p).HTTP.Path = "/a\tb" }, hc0 + ".http.path: must not contain control characters"},
		{"hc header pseudo", func(p *ir.Proxy) { hc(p).HTTP.RequestHeaders = []ir.HealthCheckHeader{{Name: ":path", Value: "/"}} }, hc0 + `.http.requestHeaders[0].name: header ":path" cannot be modified`},
		{"hc header value", func(p *ir.Proxy) { hc(p).HTTP.RequestHeaders = []ir.HealthCheckHeader{{Name: "a", Value: "x\r"}} }, hc0 + ".http.requestHeaders[0].value: must not contain NUL, CR or LF"},
		{"hc status low", func(p *ir.Proxy) { hc(p).HTTP.ExpectedStatuses = []uint32{99} }, hc0 + ".http.expectedStatuses[0]: must be in [100, 599], got 99"},
		{"hc status high", func(p *ir.Proxy) { hc(p).HTTP.ExpectedStatuses = []uint32{600} }, hc0 + ".http.expectedStatuses[0]: must be in [100, 599], got 600"},
		{"hc tcp empty receive", func(p *ir.Proxy) { clusterAt(p, 0).HealthChecks[1].TCP.Receive = []string{""} }, cl + ".healthChecks[1].tcp.receive[0]: must not be empty"},
		{"timeouts negative idle", func(p *ir.Proxy) { clusterAt(p, 0).Timeouts.IdleTimeout = -1 }, cl + ".timeouts.idleTimeout: must not be negative"},
		{"timeouts negative stream", func(p *ir.Proxy) { clusterAt(p, 0).Timeouts.MaxStreamDuration = -1 }, cl + ".timeouts.maxStreamDuration: must not be negative"},
		{"cluster decision kind", func(p *ir.Proxy) { clusterAt(p, 0).Policies[0].Kind = "" }, cl + ".policies[0].kind: must be set"},
		{"retry without condition", func(p *ir.Proxy) { forwardOf(p).Retry.RetryOn = " " }, fw + ".retry.retryOn: must be set"},
		{"retry unknown condition", func(p *ir.Proxy) { forwardOf(p).Retry.RetryOn = "5xx,gateway_error,retriable-status-codes" }, fw + `.retry.retryOn: unknown retry condition "gateway_error"`},
		{"retry codes without condition", func(p *ir.Proxy) { forwardOf(p).Retry.RetryOn = "5xx" }, fw + ".retry.retryOn: must include retriable-status-codes"},
		{"retry status code", func(p *ir.Proxy) { forwardOf(p).Retry.RetriableStatusCodes = []uint32{42} }, fw + ".retry.retriableStatusCodes[0]: must be in [100, 599], got 42"},
		{"retry negative per try", func(p *ir.Proxy) { forwardOf(p).Retry.PerTryTimeout = -1 }, fw + ".retry.perTryTimeout: must not be negative"},
		{"retry max without base", func(p *ir.Proxy) { forwardOf(p).Retry.BaseInterval = 0 }, fw + ".retry.maxInterval: requires baseInterval"},
		{"retry max below base", func(p *ir.Proxy) { forwardOf(p).Retry.MaxInterval = time.Millisecond }, fw + ".retry.maxInterval: must be at least baseInterval (25ms), got 1ms"},
		{"retry empty method", func(p *ir.Proxy) { forwardOf(p).Retry.RetriableMethods = []string{""} }, fw + `.retry.retriableMethods[0]: must be an HTTP method, got ""`},
		{"rate limit no requests", func(p *ir.Proxy) { forwardOf(p).RateLimit.Requests = 0 }, fw + ".rateLimit.requests: must be at least 1"},
		{"rate limit short interval", func(p *ir.Proxy) { forwardOf(p).RateLimit.Interval = 10 * time.Millisecond }, fw + ".rateLimit.interval: must be at least 50ms, got 10ms"},
		{"rate limit status below 400", func(p *ir.Proxy) { forwardOf(p).RateLimit.Status = 200 }, fw + ".rateLimit.status: must be 0 (429) or an HTTP status"},
		{"rate limit status undefined", func(p *ir.Proxy) { forwardOf(p).RateLimit.Status = 499 }, fw + ".rateLimit.status: must be 0 (429) or an HTTP status"},
		{"rate limit header", func(p *ir.Proxy) { forwardOf(p).RateLimit.Headers[0].Name = "host" }, fw + `.rateLimit.headers[0].name: header "host" cannot be modified`},
		{"route decision kind", func(p *ir.Proxy) { forwardOf(p).Policies[0].Kind = "" }, fw + ".policies[0].kind: must be set"},
		{"route decision lost name", func(p *ir.Proxy) { forwardOf(p).Policies[0].Lost[0].Name = "" }, fw + ".policies[0].lost[0].name: must be set"},
		{"tcp negative idle", func(p *ir.Proxy) { tlsChain(p).TCP.IdleTimeout = -1 }, tls + ".tcp.idleTimeout: must not be negative"},
		{"tcp decision kind", func(p *ir.Proxy) { tlsChain(p).TCP.Policies[1].Kind = "" }, tls + ".tcp.policies[1].kind: must be set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := policyProxy()
			c.mutate(p)
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
