package v1alpha1

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each new policy kind loads the same from its universal and its Kubernetes form (the latter
// with snake_case keys where Kuma's protos have them), and validates.
func TestNewPolicyFormsAgree(t *testing.T) {
	for _, name := range []string{"circuitbreaker", "healthcheck", "ratelimit", "retry", "timeout",
		"trafficroute", "virtualoutbound", "proxytemplate"} {
		t.Run(name, func(t *testing.T) {
			u, errs := LoadFiles([]string{"testdata/policies/" + name + ".yaml"})
			require.Empty(t, errs)
			k, errs := LoadFiles([]string{"testdata/policies/" + name + "-k8s.yaml"})
			require.Empty(t, errs)
			require.Len(t, u, 1)
			require.Len(t, k, 1)
			assertSameResource(t, u[0], k[0])
			assert.Empty(t, u[0].Validate())
			info, ok := LookupKind(u[0].GetMeta().Kind)
			require.True(t, ok)
			assert.False(t, info.Namespaced, "cluster-scoped on Kubernetes")
			assert.False(t, info.Global, "mesh-scoped")
		})
	}
}

func loadPolicy[T Object](t *testing.T, name string) T {
	t.Helper()
	objs, errs := LoadFiles([]string{"testdata/policies/" + name + ".yaml"})
	require.Empty(t, errs)
	require.Len(t, objs, 1)
	return objs[0].(T)
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    Duration
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5s", 5 * time.Second, true},
		{"1.5s", 1500 * time.Millisecond, true},
		{"0s", 0, true},
		{"1m30s", 90 * time.Second, true},
		{"five", 0, false},
	} {
		got, ok := tc.d.Get()
		assert.Equal(t, tc.want, got, string(tc.d))
		assert.Equal(t, tc.ok, ok, string(tc.d))
	}
}

func TestCircuitBreakerValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: CircuitBreaker default/cb: ", line) + rest
	}
	// conf starts on line 5.
	const head = "type: CircuitBreaker\nname: cb\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend}}]\n"
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	runErrCases(t, []errCase{
		{"valid with thresholds only", conf("  thresholds: {maxConnections: 0}\n"), nil},
		{"valid with one detector", conf("  detectors: {totalErrors: {}}\n"), nil},
		{"wildcard destination", "type: CircuitBreaker\nname: cb\nsources: [{match: {kuma.io/service: '*'}}]\n" +
			"destinations: [{match: {kuma.io/service: '*'}}]\nconf: {thresholds: {maxRetries: 3}}\n", nil},
		{"empty spec", "type: CircuitBreaker\nname: cb\n", []string{
			e(1, "conf: must have at least one of the detector or threshold configured"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		// Kuma's sources need kuma.io/service; destinations only kuma.io/service.
		{"selectors", "type: CircuitBreaker\nname: cb\nsources:\n- match: {version: v1}\ndestinations:\n" +
			"- match: {kuma.io/service: backend, version: v2}\nconf: {thresholds: {maxRetries: 3}}\n", []string{
			e(4, `sources[0].match: mandatory tag "kuma.io/service" is missing`),
			e(6, `destinations[0].match: must consist of exactly one tag "kuma.io/service"`),
			e(6, `destinations[0].match["version"]: tag "version" is not allowed`)}},
		{"source mesh tag", "type: CircuitBreaker\nname: cb\nsources: [{match: {kuma.io/service: web, kuma.io/mesh: '*'}}]\n" +
			"destinations: [{match: {kuma.io/service: backend}}]\nconf: {thresholds: {maxRetries: 3}}\n", []string{
			e(3, `sources[0].match["kuma.io/mesh"]: must name one mesh: "*" is not allowed`)}},
		{"empty conf", head + "conf: {}\n", []string{
			e(5, "conf: must have at least one of the detector or threshold configured")}},
		{"empty detectors", conf("  thresholds: {maxRetries: 1}\n  detectors: {}\n"), []string{
			e(7, "conf.detectors: can't be empty")}},
		{"empty thresholds", conf("  detectors: {failure: {}}\n  thresholds: {}\n"), []string{
			e(7, "conf.thresholds: can't be empty")}},
		{"percentages", conf(`
  maxEjectionPercent: 101
  detectors:
    failure:
      threshold: 200
`), []string{
			e(6, "conf.maxEjectionPercent: has to be in [0.0 - 100.0] range"),
			e(9, "conf.detectors.failure.threshold: has to be in [0.0 - 100.0] range")}},
		// Envoy's rules.
		{"durations and factor", conf(`
  interval: 0s
  baseEjectionTime: 30 seconds
  detectors:
    standardDeviation:
      factor: -1
`), []string{
			e(6, "conf.interval: has to be greater than 0 when defined"),
			e(7, "conf.baseEjectionTime: has to be a valid format"),
			e(10, "conf.detectors.standardDeviation.factor: has to be a non-negative number")}},
		{"factor too large", conf("  detectors: {standardDeviation: {factor: 5000000}}\n"), []string{
			e(6, "conf.detectors.standardDeviation.factor: has to be at most 4294967.295")}},
		{"negative threshold", conf("  thresholds: {maxConnections: -1}\n"), []string{
			e(6, "conf.thresholds.maxConnections: must be an integer in the range [0, 4294967295]")}},
		{"unknown field", conf("  thresholds: {maxConnection: 1}\n"), []string{
			e(6, `conf.thresholds: unknown field "maxConnection"`)}},
	})

	cb := loadPolicy[*CircuitBreaker](t, "circuitbreaker")
	assert.Equal(t, []map[string]string{{ServiceTag: "web"}}, cb.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend"}}, cb.DestinationSelectors())
	c := cb.Spec.Conf
	assert.True(t, c.HasDetectors())
	assert.True(t, c.HasThresholds())
	d, ok := c.Interval.Get()
	assert.True(t, ok)
	assert.Equal(t, 5*time.Second, d)
	d, _ = c.BaseEjectionTime.Get()
	assert.Equal(t, 30*time.Second, d)
	assert.Equal(t, uint32(20), *c.MaxEjectionPercent)
	assert.Equal(t, uint32(2), *c.Thresholds.MaxRetries)
	assert.Equal(t, 1.9, *c.Detectors.StandardDeviation.Factor)
	assert.Equal(t, uint32(85), *c.Detectors.Failure.Threshold)
	assert.Equal(t, uint32(7), *c.Detectors.LocalErrors.Consecutive)
	assert.False(t, (*CircuitBreakerConf)(nil).HasDetectors())
}

func TestHealthCheckValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: HealthCheck default/hc: ", line) + rest
	}
	const head = "type: HealthCheck\nname: hc\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend}}]\n"
	// conf starts on line 5, its first field on line 6.
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	const basics = "  interval: 10s\n  timeout: 2s\n  unhealthyThreshold: 3\n  healthyThreshold: 1\n"
	runErrCases(t, []errCase{
		{"valid minimal", conf(basics), nil},
		{"valid tcp", conf(basics + "  tcp: {send: Zm9v, receive: [YmFy, YmF6]}\n"), nil},
		{"valid empty tcp", conf(basics + "  tcp: {}\n"), nil},
		{"empty spec", "type: HealthCheck\nname: hc\n", []string{
			e(1, "conf: has to be defined"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"empty conf", head + "conf: {}\n", []string{
			e(5, "conf.healthyThreshold: must have a positive value"),
			e(5, "conf.interval: must have a positive value"),
			e(5, "conf.timeout: must have a positive value"),
			e(5, "conf.unhealthyThreshold: must have a positive value")}},
		{"zero and invalid values", conf(`
  interval: 0s
  timeout: 2 s
  unhealthyThreshold: 0
  healthyThreshold: 0
  initialJitter: 0s
  intervalJitter: -1s
  noTrafficInterval: soon
  healthyPanicThreshold: 100.5
`), []string{
			e(6, "conf.interval: must have a positive value"),
			e(7, "conf.timeout: has to be a valid format"),
			e(8, "conf.unhealthyThreshold: must have a positive value"),
			e(9, "conf.healthyThreshold: must have a positive value"),
			e(10, "conf.initialJitter: must have a positive value"),
			e(11, "conf.intervalJitter: must have a positive value"),
			e(12, "conf.noTrafficInterval: has to be a valid format"),
			e(13, "conf.healthyPanicThreshold: must be in range [0.0 - 100.0]")}},
		{"http", conf(basics + `  http:
    path: ""
    requestHeadersToAdd:
    - append: true
    - header: {key: ""}
    - header: {key: "bad key", value: x}
    expectedStatuses: [99, 200, 600]
`), []string{
			e(11, "conf.http.path: has to be defined and cannot be empty"),
			e(13, "conf.http.requestHeadersToAdd[0].header: has to be defined"),
			e(14, "conf.http.requestHeadersToAdd[1].header.key: cannot be empty"),
			e(15, "conf.http.requestHeadersToAdd[2].header.key: must be a valid HTTP header name"),
			e(16, "conf.http.expectedStatuses[0]: must be in range [100, 600)"),
			e(16, "conf.http.expectedStatuses[2]: must be in range [100, 600)")}},
		{"http and tcp", conf(basics + "  http: {path: /}\n  tcp: {send: '!!', receive: [Zm9v, '**']}\n"), []string{
			e(5, "conf: http and tcp cannot be defined at the same time"),
			e(11, "conf.tcp.receive[1]: must be valid base64"),
			e(11, "conf.tcp.send: must be valid base64")}},
		{"snake_case keys", conf("  interval: 10s\n  timeout: 2s\n  unhealthy_threshold: 3\n  healthy_threshold: 0\n"), []string{
			e(9, "conf.healthyThreshold: must have a positive value")}},
	})

	hc := loadPolicy[*HealthCheck](t, "healthcheck")
	assert.Equal(t, []map[string]string{{ServiceTag: "web"}}, hc.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend"}}, hc.DestinationSelectors())
	c := hc.Spec.Conf
	d, _ := c.Interval.Get()
	assert.Equal(t, 10*time.Second, d)
	d, _ = c.Timeout.Get()
	assert.Equal(t, 2*time.Second, d)
	assert.Equal(t, uint32(3), c.UnhealthyThreshold)
	assert.Equal(t, 60.0, *c.HealthyPanicThreshold)
	assert.False(t, *c.ReuseConnection)
	assert.Equal(t, []uint32{200, 201}, c.HTTP.ExpectedStatuses)
	assert.Equal(t, "Content-Type", c.HTTP.RequestHeadersToAdd[0].Header.Key)
	assert.False(t, *c.HTTP.RequestHeadersToAdd[0].Append)
	assert.Nil(t, c.HTTP.RequestHeadersToAdd[1].Append)

	tcp := &HealthCheckTCP{Send: "Zm9v", Receive: []string{"YmFy", "YmF6"}}
	send, err := tcp.SendBytes()
	require.NoError(t, err)
	assert.Equal(t, []byte("foo"), send)
	recv, err := tcp.ReceiveBytes()
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("bar"), []byte("baz")}, recv)
	send, err = (*HealthCheckTCP)(nil).SendBytes()
	assert.NoError(t, err)
	assert.Nil(t, send)
}

func TestRateLimitValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: RateLimit default/rl: ", line) + rest
	}
	const head = "type: RateLimit\nname: rl\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend}}]\n"
	// conf.http starts on line 6, its first field on line 7.
	http := func(s string) string { return head + "conf:\n  http:\n" + doc(s) }
	runErrCases(t, []errCase{
		{"valid", http("    requests: 1\n    interval: 50ms\n    onRateLimit: {status: 429}\n"), nil},
		// Kuma requires no particular tag.
		{"any tags", "type: RateLimit\nname: rl\nsources: [{match: {region: eu}}]\n" +
			"destinations: [{match: {version: v1}}]\nconf: {http: {requests: 1, interval: 1s}}\n", nil},
		{"conf without http", head + "conf: {}\n", nil},
		{"empty spec", "type: RateLimit\nname: rl\n", []string{
			e(1, "conf: must have conf"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"selectors without tags", "type: RateLimit\nname: rl\nsources: [{match: {}}]\ndestinations: [{}]\nconf: {}\n", []string{
			e(3, "sources[0].match: must have at least one tag"),
			e(4, "destinations[0].match: must have at least one tag")}},
		{"empty http", head + "conf:\n  http: {}\n", []string{
			e(6, "conf.http.interval: interval must be set"),
			e(6, "conf.http.requests: requests must be set")}},
		{"interval", http("    requests: 0\n    interval: 49ms\n"), []string{
			e(7, "conf.http.requests: requests must be set"),
			e(8, "conf.http.interval: must be greater than or equal to: 50ms")}},
		{"interval format", http("    requests: 10\n    interval: ten seconds\n"), []string{
			e(8, "conf.http.interval: has to be a valid format")}},
		{"onRateLimit", http(`    requests: 10
    interval: 1s
    onRateLimit:
      status: 99
      headers:
      - {key: "", value: ""}
      - key: "a:b"
        value: x
`), []string{
			e(10, "conf.http.onRateLimit.status: must be in the range [100, 599]"),
			e(12, "conf.http.onRateLimit.headers[0].key: key must be set"),
			e(12, "conf.http.onRateLimit.headers[0].value: value must be set"),
			e(13, "conf.http.onRateLimit.headers[1].key: must be a valid HTTP header name")}},
		// Envoy's StatusCode enum has no 418.
		{"status Envoy does not know", http("    requests: 10\n    interval: 1s\n    onRateLimit: {status: 418}\n"), []string{
			e(9, "conf.http.onRateLimit.status: is not a status code Envoy accepts")}},
	})

	rl := loadPolicy[*RateLimit](t, "ratelimit")
	assert.Equal(t, []map[string]string{{ServiceTag: "*"}}, rl.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend", ProtocolTag: "http"}}, rl.DestinationSelectors())
	h := rl.Spec.Conf.HTTP
	assert.Equal(t, uint32(5), h.Requests)
	d, _ := h.Interval.Get()
	assert.Equal(t, 10*time.Second, d)
	assert.Equal(t, uint32(423), *h.OnRateLimit.Status)
	assert.Equal(t, []RateLimitHeader{{Key: "x-kuma-rate-limited", Value: "true", Append: ptr(true)}}, h.OnRateLimit.Headers)
	for _, s := range []uint32{100, 200, 208, 226, 307, 308, 404, 417, 421, 429, 431, 503, 511} {
		assert.True(t, envoyStatusCodes[s], s)
	}
	for _, s := range []uint32{0, 101, 209, 306, 418, 420, 425, 430, 509, 599} {
		assert.False(t, envoyStatusCodes[s], s)
	}
}

func ptr[T any](v T) *T { return &v }

func TestRetryValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: Retry default/r: ", line) + rest
	}
	const head = "type: Retry\nname: r\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend}}]\n"
	// conf starts on line 5, its first field on line 6.
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	runErrCases(t, []errCase{
		{"valid http", conf("  http: {numRetries: 3}\n"), nil},
		{"valid tcp", conf("  tcp: {maxConnectAttempts: 1}\n"), nil},
		{"valid grpc", conf("  grpc: {retryOn: [internal]}\n"), nil},
		{"valid back-off without max", conf("  http: {backOff: {baseInterval: 1s}}\n"), nil},
		{"empty spec", "type: Retry\nname: r\n", []string{
			e(1, "conf: has to be defined"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"selectors without tags", "type: Retry\nname: r\nsources:\n- match: {}\ndestinations:\n- match: {}\n", []string{
			e(1, "conf: has to be defined"),
			e(4, "sources[0].match: must have at least one tag"),
			e(4, `sources[0].match: mandatory tag "kuma.io/service" is missing`),
			e(6, `destinations[0].match: must consist of exactly one tag "kuma.io/service"`),
			e(6, `destinations[0].match: mandatory tag "kuma.io/service" is missing`)}},
		{"empty conf", head + "conf: {}\n", []string{
			e(5, "conf: missing protocol [grpc|http|tcp] configuration")}},
		{"empty sections", conf("  http: {}\n  grpc: {}\n  tcp: {}\n"), []string{
			e(6, "conf.http: field cannot be empty"),
			e(7, "conf.grpc: field cannot be empty"),
			e(8, "conf.tcp.maxConnectAttempts: has to be greater than 0")}},
		{"empty lists are empty", conf("  http: {retriableStatusCodes: [], retryOn: []}\n"), []string{
			e(6, "conf.http: field cannot be empty")}},
		{"invalid http", conf(`
  http:
    numRetries: 0
    perTryTimeout: "0"
    backOff: {}
    retriableMethods: [GET, NONE]
    retryOn: [reset, retriable_status_codes]
    retriableStatusCodes: []
`), []string{
			e(7, "conf.http.numRetries: has to be greater than 0 when defined"),
			e(8, "conf.http.perTryTimeout: has to be greater than 0 when defined"),
			e(9, "conf.http.backOff.baseInterval: has to be defined"),
			e(10, "conf.http.retriableMethods[1]: field cannot be empty"),
			e(11, "conf.http.retryOn[1]: retriableStatusCodes cannot be empty when this option is specified")}},
		{"unknown enum values", conf("  http:\n    retriableMethods: [get]\n    retryOn: [5xx]\n"), []string{
			e(7, `conf.http.retriableMethods[0]: invalid value "get": must be one of CONNECT, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE`),
			e(8, `conf.http.retryOn[0]: invalid value "5xx": must be one of all_5xx, gateway_error, reset, connect_failure, envoy_ratelimited, retriable_4xx, refused_stream, retriable_status_codes, retriable_headers, http3_post_connect_failure`)}},
		{"invalid grpc", conf(`
  grpc:
    numRetries: 0
    backOff: {baseInterval: 0s, maxInterval: 0s}
    perTryTimeout: "0"
    retryOn: [cancelled, resource_exhausted, cancelled, cancelled, resource_exhausted, internal]
`), []string{
			e(7, "conf.grpc.numRetries: has to be greater than 0 when defined"),
			e(8, "conf.grpc.backOff.baseInterval: has to be greater than 0"),
			e(9, "conf.grpc.perTryTimeout: has to be greater than 0 when defined"),
			e(10, `conf.grpc.retryOn: repeated value "cancelled" at indexes [0, 2, 3]`),
			e(10, `conf.grpc.retryOn: repeated value "resource_exhausted" at indexes [1, 4]`)}},
		{"grpc retryOn not in enum", conf("  grpc: {retryOn: [unknown]}\n"), []string{
			e(6, `conf.grpc.retryOn[0]: invalid value "unknown": must be one of cancelled, deadline_exceeded, internal, resource_exhausted, unavailable`)}},
		// Envoy's rules.
		{"back-off max below base", conf("  http:\n    backOff:\n      baseInterval: 1s\n      maxInterval: 500ms\n"), []string{
			e(9, "conf.http.backOff.maxInterval: must be greater than or equal to baseInterval")}},
		{"max interval zero", conf("  http:\n    backOff:\n      baseInterval: 1s\n      maxInterval: 0s\n"), []string{
			e(9, "conf.http.backOff.maxInterval: has to be greater than 0 when defined")}},
		{"status codes", conf("  http:\n    retriableStatusCodes: [503, 600]\n    retryOn: [retriable_status_codes]\n"), []string{
			e(7, "conf.http.retriableStatusCodes[1]: must be in the range [100, 599]")}},
		{"snake_case keys", conf("  http:\n    num_retries: 0\n    back_off: {base_interval: 0s}\n"), []string{
			e(7, "conf.http.numRetries: has to be greater than 0 when defined"),
			e(8, "conf.http.backOff.baseInterval: has to be greater than 0")}},
	})

	r := loadPolicy[*Retry](t, "retry")
	assert.Equal(t, []map[string]string{{ServiceTag: "web"}}, r.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend"}}, r.DestinationSelectors())
	h := r.Spec.Conf.HTTP
	assert.Equal(t, uint32(5), *h.NumRetries)
	d, _ := h.PerTryTimeout.Get()
	assert.Equal(t, 200*time.Millisecond, d)
	d, _ = h.BackOff.BaseInterval.Get()
	assert.Equal(t, 20*time.Millisecond, d)
	d, _ = h.BackOff.MaxInterval.Get()
	assert.Equal(t, time.Second, d)
	assert.Equal(t, []uint32{500, 504}, h.RetriableStatusCodes)
	assert.Equal(t, []HTTPMethod{MethodGET, MethodDELETE}, h.RetriableMethods)
	assert.Equal(t, []HTTPRetryOn{HTTPRetryOnAll5xx, HTTPRetryOnRetriableStatusCodes, HTTPRetryOnConnectFailure}, h.RetryOn)
	assert.Equal(t, []GRPCRetryOn{GRPCRetryOnCancelled, GRPCRetryOnDeadlineExceeded, GRPCRetryOnUnavailable}, r.Spec.Conf.GRPC.RetryOn)
	assert.Equal(t, uint32(3), r.Spec.Conf.TCP.MaxConnectAttempts)

	for on, want := range map[HTTPRetryOn]string{
		HTTPRetryOnAll5xx: "5xx", HTTPRetryOnGatewayError: "gateway-error", HTTPRetryOnReset: "reset",
		HTTPRetryOnConnectFailure: "connect-failure", HTTPRetryOnEnvoyRatelimited: "envoy-ratelimited",
		HTTPRetryOnRetriable4xx: "retriable-4xx", HTTPRetryOnRefusedStream: "refused-stream",
		HTTPRetryOnRetriableStatusCodes: "retriable-status-codes", HTTPRetryOnRetriableHeaders: "retriable-headers",
		HTTPRetryOnHTTP3PostConnectFailure: "http3-post-connect-failure",
	} {
		assert.Equal(t, want, on.EnvoyName())
	}
	assert.Equal(t, "deadline-exceeded", GRPCRetryOnDeadlineExceeded.EnvoyName())
	assert.Equal(t, "resource-exhausted", GRPCRetryOnResourceExhausted.EnvoyName())
	assert.Equal(t, "cancelled", GRPCRetryOnCancelled.EnvoyName())
}

func TestTimeoutValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: Timeout default/to: ", line) + rest
	}
	const head = "type: Timeout\nname: to\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend}}]\n"
	// conf starts on line 5, its first field on line 6.
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	runErrCases(t, []errCase{
		{"valid empty conf", head + "conf: {}\n", nil},
		{"valid connect only", conf("  connectTimeout: 5s\n"), nil},
		{"valid http zeros where Envoy allows them", conf("  http: {idleTimeout: 1h, streamIdleTimeout: 0s, maxStreamDuration: 0s}\n"), nil},
		{"empty spec", "type: Timeout\nname: to\n", []string{
			e(1, "conf: has to be defined"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"empty sections", conf("  tcp: {}\n  http: {}\n  grpc: {}\n"), []string{
			e(6, "conf.tcp: at least one timeout in section has to be defined"),
			e(7, "conf.http: at least one timeout in section has to be defined"),
			e(8, "conf.grpc: at least one timeout in section has to be defined")}},
		// As in Kuma, an http section needs requestTimeout or idleTimeout.
		{"http with stream timeouts only", conf("  http: {streamIdleTimeout: 5s}\n"), []string{
			e(6, "conf.http: at least one timeout in section has to be defined")}},
		{"zero timeouts", conf(`
  connectTimeout: 0s
  tcp:
    idleTimeout: 0s
  http:
    requestTimeout: 0s
    idleTimeout: 0s
    streamIdleTimeout: -1s
    maxStreamDuration: x
  grpc:
    streamIdleTimeout: 0s
    maxStreamDuration: 0s
`), []string{
			e(6, "conf.connectTimeout: has to be greater than 0 when defined"),
			e(8, "conf.tcp.idleTimeout: has to be greater than 0"),
			e(10, "conf.http.requestTimeout: has to be greater than 0 when defined"),
			e(11, "conf.http.idleTimeout: has to be greater than 0 when defined"),
			e(12, "conf.http.streamIdleTimeout: must not be negative"),
			e(13, "conf.http.maxStreamDuration: has to be a valid format"),
			e(15, "conf.grpc.streamIdleTimeout: has to be greater than 0 when defined"),
			e(16, "conf.grpc.maxStreamDuration: has to be greater than 0 when defined")}},
		{"not a string", conf("  connectTimeout: 5\n"), []string{
			e(6, "conf.connectTimeout: must be a string")}},
	})

	to := loadPolicy[*Timeout](t, "timeout")
	assert.Equal(t, []map[string]string{{ServiceTag: "*"}}, to.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend"}}, to.DestinationSelectors())
	c := to.Spec.Conf
	assert.Equal(t, 10*time.Second, c.ConnectTimeoutOrDefault(time.Second))
	for _, tc := range []struct {
		get  func() (time.Duration, bool)
		want time.Duration
	}{
		{c.TCPIdleTimeout, time.Hour},
		{c.HTTPRequestTimeout, 15 * time.Second},
		{c.HTTPIdleTimeout, time.Hour},
		{c.HTTPStreamIdleTimeout, 30 * time.Minute},
		{c.HTTPMaxStreamDuration, 0}, // set to 0s: http wins over grpc
	} {
		d, ok := tc.get()
		assert.True(t, ok)
		assert.Equal(t, tc.want, d)
	}

	// The deprecated grpc section stands in for http's stream timeouts.
	grpcOnly := &TimeoutConf{GRPC: &TimeoutGRPC{StreamIdleTimeout: "5m", MaxStreamDuration: "30m"}}
	d, ok := grpcOnly.HTTPStreamIdleTimeout()
	assert.True(t, ok)
	assert.Equal(t, 5*time.Minute, d)
	d, ok = grpcOnly.HTTPMaxStreamDuration()
	assert.True(t, ok)
	assert.Equal(t, 30*time.Minute, d)
	_, ok = grpcOnly.HTTPRequestTimeout()
	assert.False(t, ok)
	_, ok = grpcOnly.TCPIdleTimeout()
	assert.False(t, ok)
	assert.Equal(t, time.Second, grpcOnly.ConnectTimeoutOrDefault(time.Second))

	var none *TimeoutConf
	assert.Equal(t, 5*time.Second, none.ConnectTimeoutOrDefault(5*time.Second))
	for _, get := range []func() (time.Duration, bool){none.TCPIdleTimeout, none.HTTPRequestTimeout,
		none.HTTPIdleTimeout, none.HTTPStreamIdleTimeout, none.HTTPMaxStreamDuration} {
		_, ok := get()
		assert.False(t, ok)
	}
}

func TestConnectionPolicyKubernetesForm(t *testing.T) {
	runErrCases(t, []errCase{
		{"errors locate the spec line, snake_case keys", `apiVersion: kuma.io/v1alpha1
kind: Retry
mesh: default
metadata:
  name: r
spec:
  sources:
  - match:
      kuma.io/service: web
  destinations:
  - match:
      kuma.io/service: backend
  conf:
    http:
      num_retries: 0
      back_off:
        max_interval: 1s
`, []string{
			"test.yaml:15: Retry default/r: conf.http.numRetries: has to be greater than 0 when defined",
			"test.yaml:16: Retry default/r: conf.http.backOff.baseInterval: has to be defined"}},
		{"health check", `apiVersion: kuma.io/v1alpha1
kind: HealthCheck
metadata:
  name: hc
  labels: {kuma.io/mesh: payments}
spec:
  sources: [{match: {kuma.io/service: web}}]
  destinations: [{match: {kuma.io/service: backend}}]
  conf:
    interval: 10s
    timeout: 1s
    unhealthy_threshold: 0
    healthy_threshold: 2
`, []string{
			"test.yaml:12: HealthCheck payments/hc: conf.unhealthyThreshold: must have a positive value"}},
	})
}
