package explain

import (
	"encoding/json"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/names"
)

// decisions is the translator's metadata form of policy decisions: kind, applied, note and
// lost as [name, reason] pairs.
func decisions(ds ...[]any) *structpb.Value {
	var list []*structpb.Value
	for _, d := range ds {
		var lost []*structpb.Value
		for _, l := range d[3].([][2]string) {
			lost = append(lost, structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				"name": structpb.NewStringValue(l[0]), "reason": structpb.NewStringValue(l[1]),
			}}))
		}
		list = append(list, structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"kind":    structpb.NewStringValue(d[0].(string)),
			"applied": structpb.NewStringValue(d[1].(string)),
			"note":    structpb.NewStringValue(d[2].(string)),
			"lost":    structpb.NewListValue(&structpb.ListValue{Values: lost}),
		}}))
	}
	return structpb.NewListValue(&structpb.ListValue{Values: list})
}

func withPolicies(md *corev3.Metadata, v *structpb.Value) *corev3.Metadata {
	if md == nil {
		md = &corev3.Metadata{}
	}
	if md.FilterMetadata == nil {
		md.FilterMetadata = map[string]*structpb.Struct{}
	}
	s := md.FilterMetadata[names.MetadataNamespace]
	if s == nil {
		s = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		md.FilterMetadata[names.MetadataNamespace] = s
	}
	s.Fields[names.PoliciesMetadataKey] = v
	return md
}

func rateLimitConfig(t *testing.T, requests uint32, interval time.Duration, status typev3.StatusCode) *localratelimitv3.LocalRateLimit {
	cfg := &localratelimitv3.LocalRateLimit{
		StatPrefix:     "rate_limit",
		TokenBucket:    &typev3.TokenBucket{MaxTokens: requests, TokensPerFill: wrapperspb.UInt32(requests), FillInterval: durationpb.New(interval)},
		FilterEnabled:  &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100}},
		FilterEnforced: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100}},
	}
	if status != 0 {
		cfg.Status = &typev3.HttpStatus{Code: status}
	}
	return cfg
}

// policyGateway is a gateway shaped like the translator's output for connection policies: an
// HTTP route with Timeout, Retry and RateLimit and an ignored TrafficRoute, a weighted route
// whose Timeout was chosen across two destinations, clusters with CircuitBreaker, HealthCheck
// and Timeout settings, and a TCP proxy with Retry and Timeout.
func policyGateway(t *testing.T, withRateLimitFilter bool) *envoyres.Resources {
	const rc = "edge:HTTP:8080:*"
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "edge",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}},
			RouteConfigName: rc,
		}},
	}
	if withRateLimitFilter {
		hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{Name: localRateLimitFilter,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &localratelimitv3.LocalRateLimit{StatPrefix: "rate_limit"})}})
	}
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{Name: "envoy.filters.http.router",
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}})
	httpChain := &listenerv3.FilterChain{Name: rc, Filters: []*listenerv3.Filter{{
		Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)},
	}}}

	echo := toCluster("echo/rules[0]/matches[0]", prefix("/"), "echo")
	echo.Metadata = withPolicies(origin("default", "echo", 0, 0), decisions(
		[]any{"Timeout", "t1", "best match for echo", [][2]string{}},
		[]any{"Retry", "r1", "best match for echo", [][2]string{{"r0", "less specific"}}},
		[]any{"RateLimit", "rl", "best match for echo", [][2]string{}},
		[]any{"TrafficRoute", "", "TrafficRoute tr-1 selects this gateway and is ignored: a gateway routes by MeshGatewayRoute", [][2]string{}},
	))
	action(echo).Timeout = durationpb.New(5 * time.Second)
	action(echo).RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx,reset", NumRetries: wrapperspb.UInt32(20), PerTryTimeout: durationpb.New(time.Second)}
	echo.TypedPerFilterConfig = map[string]*anypb.Any{localRateLimitFilter: mustAny(t, rateLimitConfig(t, 100, time.Second, 0))}

	split := toCluster("split/rules[0]/matches[0]", prefix("/split"), "")
	split.Metadata = withPolicies(origin("default", "split", 0, 0), decisions(
		[]any{"Timeout", "wildcard", "destinations differ: a wildcard-destination policy is preferred; oldest of those",
			[][2]string{{"echo-timeout", "not a wildcard destination"}}},
	))
	action(split).ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
		{Name: "echo", Weight: wrapperspb.UInt32(50)},
		{Name: "api", Weight: wrapperspb.UInt32(50)},
	}}}
	action(split).Timeout = durationpb.New(7 * time.Second)

	plain := toCluster("plain/rules[0]/matches[0]", prefix("/plain"), "plain")

	echoCluster := cluster("echo", map[string]string{api.ServiceTag: "echo"})
	echoCluster.Metadata = withPolicies(echoCluster.Metadata, decisions(
		[]any{"CircuitBreaker", "cb", "best match for echo", [][2]string{}},
		[]any{"HealthCheck", "hc", "best match for echo", [][2]string{}},
		[]any{"Timeout", "t1", "best match for echo", [][2]string{}},
	))
	echoCluster.ConnectTimeout = durationpb.New(2 * time.Second)
	echoCluster.TypedExtensionProtocolOptions = map[string]*anypb.Any{envoyres.HTTPProtocolOptionsType: mustAny(t, &upstreamhttpv3.HttpProtocolOptions{
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: durationpb.New(time.Minute)},
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}},
	})}
	echoCluster.CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections: wrapperspb.UInt32(10), MaxRetries: wrapperspb.UInt32(3),
	}}}
	echoCluster.OutlierDetection = &clusterv3.OutlierDetection{
		Consecutive_5Xx: wrapperspb.UInt32(5), EnforcingConsecutive_5Xx: wrapperspb.UInt32(100),
		EnforcingConsecutiveGatewayFailure: wrapperspb.UInt32(0), EnforcingSuccessRate: wrapperspb.UInt32(0),
		EnforcingFailurePercentage: wrapperspb.UInt32(0), BaseEjectionTime: durationpb.New(30 * time.Second),
	}
	echoCluster.HealthChecks = []*corev3.HealthCheck{{
		Interval: durationpb.New(5 * time.Second), Timeout: durationpb.New(time.Second),
		UnhealthyThreshold: wrapperspb.UInt32(3), HealthyThreshold: wrapperspb.UInt32(2),
		HealthChecker: &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: &corev3.HealthCheck_HttpHealthCheck{
			Path: "/health", ExpectedStatuses: []*typev3.Int64Range{{Start: 200, End: 300}},
		}},
	}}
	apiCluster := cluster("api", map[string]string{api.ServiceTag: "api"})
	apiCluster.Metadata = withPolicies(apiCluster.Metadata, decisions(
		[]any{"Timeout", "wildcard", "best match for api", [][2]string{}},
	))
	apiCluster.ConnectTimeout = durationpb.New(12 * time.Second)

	tp := &tcpproxyv3.TcpProxy{
		StatPrefix:         "edge",
		ClusterSpecifier:   &tcpproxyv3.TcpProxy_Cluster{Cluster: "echo"},
		MaxConnectAttempts: wrapperspb.UInt32(5),
		IdleTimeout:        durationpb.New(30 * time.Minute),
	}
	tcpChain := &listenerv3.FilterChain{
		Name:     "edge:TCP:9000:*",
		Filters:  []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, tp)}}},
		Metadata: withPolicies(nil, decisions([]any{"Retry", "r1", "best match for echo", [][2]string{{"r0", "less specific"}}})),
	}

	res := &envoyres.Resources{
		Listeners: []*listenerv3.Listener{
			listener(t, "edge:HTTP:8080", 8080, httpChain),
			listener(t, "edge:TCP:9000", 9000, tcpChain),
		},
		Routes:   []*routev3.RouteConfiguration{routeConfig(rc, vhost("any", []string{"*"}, split, plain, echo))},
		Clusters: []*clusterv3.Cluster{apiCluster, echoCluster, cluster("plain", map[string]string{api.ServiceTag: "plain"})},
	}
	for _, c := range res.Clusters {
		res.Endpoints = append(res.Endpoints, loadAssignment(c.GetName(), 1, 0))
	}
	return res
}

func TestPolicyText(t *testing.T) {
	res := policyGateway(t, true)
	r, err := Explain(res, Request{Port: 8080, Host: "gw.local", Path: "/x"})
	require.NoError(t, err)
	assert.Equal(t, `listener           edge:HTTP:8080  (plaintext)
filter chain       edge:HTTP:8080:*
route config       edge:HTTP:8080:*
virtual host       any
route              default/echo rules[0] matches[0]  (Envoy route echo/rules[0]/matches[0])
match              prefix /
action             forward to echo  {kuma.io/service=echo}  1 endpoint
upstream           gw.local/x
timeout            5s
retry              20 on 5xx,reset, 1s per try
rate limit         100 requests / 1s  status 429
policy             Timeout t1  (applied: best match for echo)
policy             Retry r1  (applied: best match for echo; lost: r0 — less specific)
policy             RateLimit rl  (applied: best match for echo)
ignored            TrafficRoute tr-1 selects this gateway and is ignored: a gateway routes by MeshGatewayRoute
cluster policy     CircuitBreaker cb  (applied: best match for echo)
cluster policy     HealthCheck hc  (applied: best match for echo)
cluster policy     Timeout t1  (applied: best match for echo)
connect timeout    2s  (pool idle 1m0s)
circuit breaker    max_connections 10  max_retries 3
outlier detection  consecutive_5xx 5  interval 10s  base_ejection_time 30s  max_ejection_percent 10
health check       http /health every 5s, timeout 1s, unhealthy after 3, healthy after 2, expects 200-299
per-route filters  envoy.filters.http.local_ratelimit
`, r.Text())

	// A weighted route: the route-level Timeout chosen across destinations, then each cluster's.
	r, err = Explain(res, Request{Port: 8080, Host: "gw.local", Path: "/split"})
	require.NoError(t, err)
	assert.Contains(t, r.Text(), `timeout            7s
policy             Timeout wildcard  (applied: destinations differ: a wildcard-destination policy is preferred; oldest of those; lost: echo-timeout — not a wildcard destination)
cluster policy     echo: CircuitBreaker cb  (applied: best match for echo)
cluster policy     echo: HealthCheck hc  (applied: best match for echo)
cluster policy     echo: Timeout t1  (applied: best match for echo)
connect timeout    echo: 2s  (pool idle 1m0s)
circuit breaker    echo: max_connections 10  max_retries 3
`)
	assert.Contains(t, r.Text(), "cluster policy     api: Timeout wildcard  (applied: best match for api)\nconnect timeout    api: 12s\n")

	// Nothing recorded, nothing said.
	r, err = Explain(res, Request{Port: 8080, Host: "gw.local", Path: "/plain"})
	require.NoError(t, err)
	assert.NotContains(t, r.Text(), "polic")
	assert.NotContains(t, r.Text(), "connect timeout")
	assert.Nil(t, r.Policies)

	r, err = Explain(res, Request{Port: 9000, Host: "gw.local"})
	require.NoError(t, err)
	assert.Equal(t, `listener           edge:TCP:9000  (plaintext)
filter chain       edge:TCP:9000:*
action             forward to echo  {kuma.io/service=echo}  1 endpoint
idle timeout       30m0s
connect attempts   5
policy             Retry r1  (applied: best match for echo; lost: r0 — less specific)
cluster policy     CircuitBreaker cb  (applied: best match for echo)
cluster policy     HealthCheck hc  (applied: best match for echo)
cluster policy     Timeout t1  (applied: best match for echo)
connect timeout    2s  (pool idle 1m0s)
circuit breaker    max_connections 10  max_retries 3
outlier detection  consecutive_5xx 5  interval 10s  base_ejection_time 30s  max_ejection_percent 10
health check       http /health every 5s, timeout 1s, unhealthy after 3, healthy after 2, expects 200-299
`, r.Text())
}

func TestPolicyJSON(t *testing.T) {
	r, err := Explain(policyGateway(t, true), Request{Port: 8080, Host: "gw.local", Path: "/x"})
	require.NoError(t, err)
	b, err := json.Marshal(struct {
		Policies []Policy `json:"policies"`
		Action   *Action  `json:"action"`
	}{r.Policies, r.Action})
	require.NoError(t, err)
	assert.JSONEq(t, `{
	  "policies": [
	    {"kind": "Timeout", "applied": "t1", "note": "best match for echo"},
	    {"kind": "Retry", "applied": "r1", "note": "best match for echo", "lost": [{"name": "r0", "reason": "less specific"}]},
	    {"kind": "RateLimit", "applied": "rl", "note": "best match for echo"},
	    {"kind": "TrafficRoute", "note": "TrafficRoute tr-1 selects this gateway and is ignored: a gateway routes by MeshGatewayRoute"}
	  ],
	  "action": {
	    "forward": [{
	      "cluster": "echo", "weight": 1, "service": "echo", "destination": {"kuma.io/service": "echo"}, "endpoints": 1,
	      "type": "EDS", "addresses": ["10.1.0.1:8000"],
	      "policies": [
	        {"kind": "CircuitBreaker", "applied": "cb", "note": "best match for echo"},
	        {"kind": "HealthCheck", "applied": "hc", "note": "best match for echo"},
	        {"kind": "Timeout", "applied": "t1", "note": "best match for echo"}
	      ],
	      "connectTimeout": "2s", "poolIdleTimeout": "1m0s",
	      "circuitBreaker": {"maxConnections": 10, "maxRetries": 3},
	      "outlierDetection": {"detectors": ["consecutive_5xx 5"], "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 10},
	      "healthChecks": [{"type": "http", "path": "/health", "expectedStatuses": ["200-299"], "interval": "5s", "timeout": "1s", "unhealthyThreshold": 3, "healthyThreshold": 2}]
	    }],
	    "upstreamHost": "gw.local", "upstreamPath": "/x",
	    "timeout": "5s",
	    "retry": {"retryOn": "5xx,reset", "numRetries": 20, "perTryTimeout": "1s"},
	    "rateLimit": {"requests": 100, "interval": "1s", "maxTokens": 100, "status": 429, "enabledPercent": 100, "enforcedPercent": 100}
	  }
	}`, string(b))
}

// A per-route rate limit without the filter in the connection manager limits nothing.
func TestRateLimitWithoutFilter(t *testing.T) {
	r, err := Explain(policyGateway(t, false), Request{Port: 8080, Host: "gw.local", Path: "/x"})
	require.NoError(t, err)
	require.NotNil(t, r.Action.RateLimit)
	assert.Contains(t, r.Notes, "the route configures envoy.filters.http.local_ratelimit, but the connection manager has no such filter: nothing is limited")
}

func TestRateLimitText(t *testing.T) {
	cases := []struct {
		rl   RateLimit
		want string
	}{
		{RateLimit{Requests: 5, MaxTokens: 5, Interval: "20s", Status: 423, EnabledPercent: 100, EnforcedPercent: 100,
			Headers: []HeaderValue{{Name: "x-limited", Value: "true"}}}, "5 requests / 20s  status 423  headers x-limited: true"},
		{RateLimit{Requests: 1, MaxTokens: 10, Interval: "1s", Status: 429, EnabledPercent: 100, EnforcedPercent: 100}, "1 request / 1s (bucket of 10)  status 429"},
		{RateLimit{Requests: 1, MaxTokens: 1, Interval: "1s", Status: 429}, "1 request / 1s  status 429  (not enabled: nothing is limited)"},
		{RateLimit{Requests: 1, MaxTokens: 1, Interval: "1s", Status: 429, EnabledPercent: 100}, "1 request / 1s  status 429  (not enforced: only counted)"},
		{RateLimit{Requests: 1, MaxTokens: 1, Interval: "1s", Status: 429, EnabledPercent: 50, EnforcedPercent: 100}, "1 request / 1s  status 429  (enabled for 50%, enforced for 100%)"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, rateLimitText(&c.rl))
	}
}

func TestOutlierDetectionDefaults(t *testing.T) {
	od := outlierDetection(&clusterv3.OutlierDetection{})
	assert.Equal(t, []string{"consecutive_5xx 5", "success_rate stdev_factor 1.9 (request_volume 100, minimum_hosts 5)"}, od.Detectors)
	od = outlierDetection(&clusterv3.OutlierDetection{
		ConsecutiveLocalOriginFailure: wrapperspb.UInt32(20), EnforcingConsecutive_5Xx: wrapperspb.UInt32(0),
		EnforcingSuccessRate: wrapperspb.UInt32(0), FailurePercentageThreshold: wrapperspb.UInt32(90),
		EnforcingFailurePercentage: wrapperspb.UInt32(100),
	})
	assert.Equal(t, []string{
		"consecutive_local_origin_failure 20 (inert without split_external_local_origin_errors)",
		"failure_percentage 90% (request_volume 50, minimum_hosts 5)",
	}, od.Detectors)
}

func TestPoliciesReport(t *testing.T) {
	rep := Policies(policyGateway(t, true))
	require.NotNil(t, rep)
	require.Len(t, rep.Routes, 2, "routes without decisions are left out")
	assert.Equal(t, "split/rules[0]/matches[0]", rep.Routes[0].EnvoyRoute)
	assert.Equal(t, "echo/rules[0]/matches[0]", rep.Routes[1].EnvoyRoute)
	require.Len(t, rep.TCP, 1)
	assert.Equal(t, uint32(5), rep.TCP[0].MaxConnectAttempts)
	require.Len(t, rep.Clusters, 2)
	assert.Equal(t, `route                default/split rules[0] matches[0]  (Envoy route split/rules[0]/matches[0], virtual host any of edge:HTTP:8080:*)
  timeout            7s
  policy             Timeout wildcard  (applied: destinations differ: a wildcard-destination policy is preferred; oldest of those; lost: echo-timeout — not a wildcard destination)
route                default/echo rules[0] matches[0]  (Envoy route echo/rules[0]/matches[0], virtual host any of edge:HTTP:8080:*)
  timeout            5s
  retry              20 on 5xx,reset, 1s per try
  rate limit         100 requests / 1s  status 429
  policy             Timeout t1  (applied: best match for echo)
  policy             Retry r1  (applied: best match for echo; lost: r0 — less specific)
  policy             RateLimit rl  (applied: best match for echo)
  ignored            TrafficRoute tr-1 selects this gateway and is ignored: a gateway routes by MeshGatewayRoute
tcp proxy            edge:TCP:9000:*  (listener edge:TCP:9000)
  connect attempts   5
  idle timeout       30m0s
  policy             Retry r1  (applied: best match for echo; lost: r0 — less specific)
cluster              api
  connect timeout    12s
  policy             Timeout wildcard  (applied: best match for api)
cluster              echo
  connect timeout    2s  (pool idle 1m0s)
  circuit breaker    max_connections 10  max_retries 3
  outlier detection  consecutive_5xx 5  interval 10s  base_ejection_time 30s  max_ejection_percent 10
  health check       http /health every 5s, timeout 1s, unhealthy after 3, healthy after 2, expects 200-299
  policy             CircuitBreaker cb  (applied: best match for echo)
  policy             HealthCheck hc  (applied: best match for echo)
  policy             Timeout t1  (applied: best match for echo)
`, rep.Text())

	b, err := json.Marshal(rep.Clusters[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"cluster": "api", "service": "api", "connectTimeout": "12s",
	  "policies": [{"kind": "Timeout", "applied": "wildcard", "note": "best match for api"}]}`, string(b))

	assert.Nil(t, Policies(gateway(t)), "a configuration without decisions has no report")
	assert.Equal(t, "", (*PolicyReport)(nil).Text())
}
