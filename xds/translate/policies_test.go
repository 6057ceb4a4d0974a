package translate

import (
	"encoding/hex"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	hcfilev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/health_check/event_sinks/file/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/snapshot"
)

func translateClusterDeep(t *testing.T, c ir.Cluster) *clusterv3.Cluster {
	t.Helper()
	out, err := cluster(c)
	require.NoError(t, err)
	validateDeep(t, out)
	return out
}

func TestClusterCircuitBreaker(t *testing.T) {
	out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP,
		CircuitBreaker: &ir.CircuitBreaker{
			MaxConnections: 2, MaxRequests: 4,
			Outlier: &ir.OutlierDetection{
				Interval: 5 * time.Second, BaseEjectionTime: 30 * time.Second, MaxEjectionPercent: ptr(uint32(20)),
				SplitExternalLocalErrors:      true,
				Consecutive5xx:                ptr(uint32(7)),
				ConsecutiveLocalOriginFailure: ptr(uint32(3)),
				SuccessRate:                   &ir.OutlierStats{RequestVolume: 11, MinimumHosts: 4, Value: 1.9},
			},
		}})

	require.Len(t, out.GetCircuitBreakers().GetThresholds(), 1)
	th := out.GetCircuitBreakers().GetThresholds()[0]
	assert.Equal(t, corev3.RoutingPriority_DEFAULT, th.GetPriority())
	assert.Equal(t, uint32(2), th.GetMaxConnections().GetValue())
	assert.Equal(t, uint32(4), th.GetMaxRequests().GetValue())
	assert.Nil(t, th.GetMaxPendingRequests(), "unset thresholds keep Envoy's defaults")
	assert.Nil(t, th.GetMaxRetries())

	od := out.GetOutlierDetection()
	assert.Equal(t, 5*time.Second, od.GetInterval().AsDuration())
	assert.Equal(t, 30*time.Second, od.GetBaseEjectionTime().AsDuration())
	assert.Equal(t, uint32(20), od.GetMaxEjectionPercent().GetValue())
	assert.True(t, od.GetSplitExternalLocalOriginErrors())
	assert.Equal(t, uint32(7), od.GetConsecutive_5Xx().GetValue())
	assert.Equal(t, uint32(100), od.GetEnforcingConsecutive_5Xx().GetValue())
	assert.Nil(t, od.GetConsecutiveGatewayFailure())
	require.NotNil(t, od.GetEnforcingConsecutiveGatewayFailure(), "an unlisted detector is disabled explicitly")
	assert.Equal(t, uint32(0), od.GetEnforcingConsecutiveGatewayFailure().GetValue())
	assert.Equal(t, uint32(3), od.GetConsecutiveLocalOriginFailure().GetValue())
	assert.Equal(t, uint32(100), od.GetEnforcingConsecutiveLocalOriginFailure().GetValue())
	assert.Equal(t, uint32(11), od.GetSuccessRateRequestVolume().GetValue())
	assert.Equal(t, uint32(4), od.GetSuccessRateMinimumHosts().GetValue())
	assert.Equal(t, uint32(1900), od.GetSuccessRateStdevFactor().GetValue(), "1.9 × 1000, rounded")
	assert.Equal(t, uint32(100), od.GetEnforcingSuccessRate().GetValue())
	assert.Equal(t, uint32(100), od.GetEnforcingLocalOriginSuccessRate().GetValue())
	assert.Nil(t, od.GetFailurePercentageThreshold())
	require.NotNil(t, od.GetEnforcingFailurePercentage())
	assert.Equal(t, uint32(0), od.GetEnforcingFailurePercentage().GetValue())
}

func TestClusterFailurePercentageAndNoThresholds(t *testing.T) {
	out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterTCP,
		CircuitBreaker: &ir.CircuitBreaker{Outlier: &ir.OutlierDetection{
			FailurePercentage: &ir.OutlierStats{RequestVolume: 50, MinimumHosts: 5, Value: 85},
		}}})
	assert.Nil(t, out.GetCircuitBreakers(), "no thresholds: Kuma leaves circuit_breakers out")
	od := out.GetOutlierDetection()
	assert.Nil(t, od.GetInterval())
	assert.Nil(t, od.GetMaxEjectionPercent())
	assert.Equal(t, uint32(50), od.GetFailurePercentageRequestVolume().GetValue())
	assert.Equal(t, uint32(5), od.GetFailurePercentageMinimumHosts().GetValue())
	assert.Equal(t, uint32(85), od.GetFailurePercentageThreshold().GetValue())
	assert.Equal(t, uint32(100), od.GetEnforcingFailurePercentage().GetValue())
	assert.Equal(t, uint32(100), od.GetEnforcingFailurePercentageLocalOrigin().GetValue())
	for name, v := range map[string]uint32{
		"5xx": od.GetEnforcingConsecutive_5Xx().GetValue(), "gateway": od.GetEnforcingConsecutiveGatewayFailure().GetValue(),
		"local": od.GetEnforcingConsecutiveLocalOriginFailure().GetValue(), "success rate": od.GetEnforcingSuccessRate().GetValue(),
	} {
		assert.Zero(t, v, name)
	}

	// A circuit breaker with only thresholds has no outlier detection.
	out = translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterTCP,
		CircuitBreaker: &ir.CircuitBreaker{MaxRetries: 3}})
	assert.Equal(t, uint32(3), out.GetCircuitBreakers().GetThresholds()[0].GetMaxRetries().GetValue())
	assert.Nil(t, out.GetOutlierDetection())
}

func TestClusterHealthChecks(t *testing.T) {
	out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP2,
		HealthChecks: []ir.HealthCheck{
			{
				Interval: 10 * time.Second, Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 2,
				InitialJitter: time.Second, IntervalJitter: 500 * time.Millisecond, IntervalJitterPercent: 10,
				NoTrafficInterval: time.Minute, HealthyPanicThreshold: ptr(60.5), ReuseConnection: ptr(false),
				EventLogPath: "/tmp/hc.log", AlwaysLogFailures: true,
				HTTP: &ir.HTTPHealthCheck{
					Path:             "/health",
					RequestHeaders:   []ir.HealthCheckHeader{{Name: "x-a", Value: "1"}, {Name: "x-b", Value: "2", Append: true}},
					ExpectedStatuses: []uint32{200, 204},
				},
			},
			{
				Interval: 5 * time.Second, Timeout: time.Second, UnhealthyThreshold: 1, HealthyThreshold: 1, FailTrafficOnPanic: true,
				TCP: &ir.TCPHealthCheck{Send: "PING\r\n", Receive: []string{"PONG", "OK"}},
			},
			{Interval: 5 * time.Second, Timeout: time.Second, UnhealthyThreshold: 1, HealthyThreshold: 1},
		}})
	require.Len(t, out.GetHealthChecks(), 3)

	h := out.GetHealthChecks()[0]
	assert.Equal(t, 10*time.Second, h.GetInterval().AsDuration())
	assert.Equal(t, 2*time.Second, h.GetTimeout().AsDuration())
	assert.Equal(t, uint32(3), h.GetUnhealthyThreshold().GetValue())
	assert.Equal(t, uint32(2), h.GetHealthyThreshold().GetValue())
	assert.Equal(t, time.Second, h.GetInitialJitter().AsDuration())
	assert.Equal(t, 500*time.Millisecond, h.GetIntervalJitter().AsDuration())
	assert.Equal(t, uint32(10), h.GetIntervalJitterPercent())
	assert.Equal(t, time.Minute, h.GetNoTrafficInterval().AsDuration())
	require.NotNil(t, h.GetReuseConnection())
	assert.False(t, h.GetReuseConnection().GetValue())
	assert.True(t, h.GetAlwaysLogHealthCheckFailures())
	assert.Empty(t, h.GetEventLogPath(), "the deprecated field stays unset") //nolint:staticcheck
	require.Len(t, h.GetEventLogger(), 1)
	assert.Equal(t, "envoy.health_check.event_sinks.file", h.GetEventLogger()[0].GetName())
	sink := unpack(t, h.GetEventLogger()[0].GetTypedConfig(), &hcfilev3.HealthCheckEventFileSink{})
	assert.Equal(t, "/tmp/hc.log", sink.GetEventLogPath())
	hh := h.GetHttpHealthCheck()
	require.NotNil(t, hh)
	assert.Equal(t, "/health", hh.GetPath())
	assert.Equal(t, typev3.CodecClientType_HTTP2, hh.GetCodecClientType(), "an http2 cluster is checked over HTTP/2")
	require.Len(t, hh.GetRequestHeadersToAdd(), 2)
	assert.Equal(t, "x-a", hh.GetRequestHeadersToAdd()[0].GetHeader().GetKey())
	assert.Equal(t, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD, hh.GetRequestHeadersToAdd()[0].GetAppendAction())
	assert.Equal(t, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD, hh.GetRequestHeadersToAdd()[1].GetAppendAction())
	require.Len(t, hh.GetExpectedStatuses(), 2)
	assert.True(t, proto.Equal(&typev3.Int64Range{Start: 200, End: 201}, hh.GetExpectedStatuses()[0]))
	assert.True(t, proto.Equal(&typev3.Int64Range{Start: 204, End: 205}, hh.GetExpectedStatuses()[1]))

	tcp := out.GetHealthChecks()[1].GetTcpHealthCheck()
	require.NotNil(t, tcp)
	assert.Equal(t, hex.EncodeToString([]byte("PING\r\n")), tcp.GetSend().GetText())
	assert.Equal(t, "50494e470d0a", tcp.GetSend().GetText())
	require.Len(t, tcp.GetReceive(), 2)
	assert.Equal(t, "504f4e47", tcp.GetReceive()[0].GetText())
	assert.Equal(t, "4f4b", tcp.GetReceive()[1].GetText())
	assert.Nil(t, out.GetHealthChecks()[1].GetReuseConnection())
	assert.Empty(t, out.GetHealthChecks()[1].GetEventLogger())

	connect := out.GetHealthChecks()[2].GetTcpHealthCheck()
	require.NotNil(t, connect, "neither HTTP nor TCP: a connect-only TCP check")
	assert.Nil(t, connect.GetSend())
	assert.Empty(t, connect.GetReceive())

	lb := out.GetCommonLbConfig()
	assert.InDelta(t, 60.5, lb.GetHealthyPanicThreshold().GetValue(), 1e-9)
	assert.True(t, lb.GetZoneAwareLbConfig().GetFailTrafficOnPanic())
}

func TestClusterHealthCheckHTTP1AndNoPanicConfig(t *testing.T) {
	out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterTCP,
		HealthChecks: []ir.HealthCheck{{Interval: time.Second, Timeout: time.Second, UnhealthyThreshold: 1, HealthyThreshold: 1,
			HTTP: &ir.HTTPHealthCheck{Path: "/"}}}})
	assert.Equal(t, typev3.CodecClientType_HTTP1, out.GetHealthChecks()[0].GetHttpHealthCheck().GetCodecClientType())
	assert.Empty(t, out.GetHealthChecks()[0].GetHttpHealthCheck().GetExpectedStatuses())
	assert.Nil(t, out.GetCommonLbConfig(), "no panic settings: no common_lb_config")

	out = translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterTCP,
		HealthChecks: []ir.HealthCheck{{Interval: time.Second, Timeout: time.Second, UnhealthyThreshold: 1, HealthyThreshold: 1,
			HealthyPanicThreshold: ptr(0.0)}}})
	require.NotNil(t, out.GetCommonLbConfig().GetHealthyPanicThreshold(), "0 %% disables panic mode and is kept")
	assert.Zero(t, out.GetCommonLbConfig().GetHealthyPanicThreshold().GetValue())
	assert.Nil(t, out.GetCommonLbConfig().GetLocalityConfigSpecifier())
}

func TestClusterTimeouts(t *testing.T) {
	timeouts := &ir.ClusterTimeouts{IdleTimeout: time.Hour, MaxStreamDuration: 30 * time.Second}
	for _, p := range []ir.ClusterProtocol{ir.ClusterHTTP, ir.ClusterHTTP2} {
		t.Run(string(p), func(t *testing.T) {
			out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: p, Timeouts: timeouts})
			opts := unpack(t, out.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey], &upstreamhttpv3.HttpProtocolOptions{})
			common := opts.GetCommonHttpProtocolOptions()
			assert.Equal(t, time.Hour, common.GetIdleTimeout().AsDuration())
			assert.Equal(t, 30*time.Second, common.GetMaxStreamDuration().AsDuration())
			require.NotNil(t, opts.GetExplicitHttpConfig(), "the protocol pinning stays")
			if p == ir.ClusterHTTP2 {
				assert.NotNil(t, opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions())
			} else {
				assert.NotNil(t, opts.GetExplicitHttpConfig().GetHttpProtocolOptions())
			}
		})
	}
	t.Run("only idle", func(t *testing.T) {
		out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP, Timeouts: &ir.ClusterTimeouts{IdleTimeout: time.Minute}})
		opts := unpack(t, out.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey], &upstreamhttpv3.HttpProtocolOptions{})
		assert.Equal(t, time.Minute, opts.GetCommonHttpProtocolOptions().GetIdleTimeout().AsDuration())
		assert.Nil(t, opts.GetCommonHttpProtocolOptions().GetMaxStreamDuration())
	})
	t.Run("tcp ignores them", func(t *testing.T) {
		out := translateClusterDeep(t, ir.Cluster{Name: "db", Service: "db", Protocol: ir.ClusterTCP, Timeouts: timeouts})
		assert.Empty(t, out.GetTypedExtensionProtocolOptions())
	})
	t.Run("zero changes nothing", func(t *testing.T) {
		with := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP, Timeouts: &ir.ClusterTimeouts{}})
		without := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP})
		assert.True(t, proto.Equal(without, with))
	})
}

// decisions and their metadata form, the layout `explain` reads back.
var (
	decisions = []ir.PolicyDecision{
		{Kind: "Retry", Applied: "retry-all", Note: "best match for api", Lost: []ir.LostPolicy{
			{Name: "retry-old", Reason: "less specific"}, {Name: "retry-twin", Reason: "equally specific, created earlier"},
		}},
		{Kind: "TrafficRoute", Note: "ignored on a gateway"},
	}
	decisionsMap = []any{
		map[string]any{"kind": "Retry", "applied": "retry-all", "note": "best match for api", "lost": []any{
			map[string]any{"name": "retry-old", "reason": "less specific"},
			map[string]any{"name": "retry-twin", "reason": "equally specific, created earlier"},
		}},
		map[string]any{"kind": "TrafficRoute", "applied": "", "note": "ignored on a gateway", "lost": []any{}},
	}
)

func TestClusterPolicyDecisionsMetadata(t *testing.T) {
	out := translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterTCP,
		Destination: map[string]string{"kuma.io/service": "api"}, Policies: decisions})
	md := out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].AsMap()
	assert.Equal(t, map[string]any{
		"service":                 "api",
		"destination":             map[string]any{"kuma.io/service": "api"},
		names.PoliciesMetadataKey: decisionsMap,
	}, md)

	out = translateClusterDeep(t, ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterTCP})
	assert.NotContains(t, out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].GetFields(), names.PoliciesMetadataKey)
}

func TestRouteRetryPolicy(t *testing.T) {
	r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
	r.Forward.Retry = &ir.RetryPolicy{
		RetryOn: "gateway-error,connect-failure,retriable-status-codes", NumRetries: 5, PerTryTimeout: 3 * time.Second,
		BaseInterval: 25 * time.Millisecond, MaxInterval: 250 * time.Millisecond,
		RetriableStatusCodes: []uint32{503, 504}, RetriableMethods: []string{"GET", "HEAD"},
	}
	out := translateRoute(t, r)
	rp := out.GetRoute().GetRetryPolicy()
	require.NotNil(t, rp)
	assert.Equal(t, "gateway-error,connect-failure,retriable-status-codes", rp.GetRetryOn())
	assert.Equal(t, uint32(5), rp.GetNumRetries().GetValue())
	assert.Equal(t, 3*time.Second, rp.GetPerTryTimeout().AsDuration())
	assert.Equal(t, 25*time.Millisecond, rp.GetRetryBackOff().GetBaseInterval().AsDuration())
	assert.Equal(t, 250*time.Millisecond, rp.GetRetryBackOff().GetMaxInterval().AsDuration())
	assert.Equal(t, []uint32{503, 504}, rp.GetRetriableStatusCodes())
	require.Len(t, rp.GetRetriableRequestHeaders(), 2)
	for i, m := range []string{"GET", "HEAD"} {
		h := rp.GetRetriableRequestHeaders()[i]
		assert.Equal(t, ":method", h.GetName())
		assert.Equal(t, m, h.GetStringMatch().GetExact())
		assert.False(t, h.GetInvertMatch())
	}

	r.Forward.Retry = &ir.RetryPolicy{RetryOn: "5xx"}
	rp = translateRoute(t, r).GetRoute().GetRetryPolicy()
	assert.Equal(t, "5xx", rp.GetRetryOn())
	assert.Nil(t, rp.GetNumRetries(), "0 keeps Envoy's one retry")
	assert.Nil(t, rp.GetPerTryTimeout())
	assert.Nil(t, rp.GetRetryBackOff())
	assert.Empty(t, rp.GetRetriableRequestHeaders())

	r.Forward.Retry = nil
	assert.Nil(t, translateRoute(t, r).GetRoute().GetRetryPolicy())
}

func TestRouteRateLimit(t *testing.T) {
	r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
	r.Forward.RateLimit = &ir.LocalRateLimit{Requests: 100, Interval: 10 * time.Second, Status: 423,
		Headers: []ir.Header{{Name: "x-rate-limited", Value: "true"}}}
	out := translateRoute(t, r)
	require.Len(t, out.GetTypedPerFilterConfig(), 1)
	rl := unpack(t, out.GetTypedPerFilterConfig()["envoy.filters.http.local_ratelimit"], &localratelimitv3.LocalRateLimit{})
	validateDeep(t, rl)
	assert.Equal(t, "rate_limit", rl.GetStatPrefix())
	assert.Equal(t, uint32(100), rl.GetTokenBucket().GetMaxTokens())
	assert.Equal(t, uint32(100), rl.GetTokenBucket().GetTokensPerFill().GetValue())
	assert.Equal(t, 10*time.Second, rl.GetTokenBucket().GetFillInterval().AsDuration())
	for key, f := range map[string]*corev3.RuntimeFractionalPercent{
		"local_rate_limit_enabled": rl.GetFilterEnabled(), "local_rate_limit_enforced": rl.GetFilterEnforced(),
	} {
		assert.Equal(t, key, f.GetRuntimeKey())
		assert.Equal(t, uint32(100), f.GetDefaultValue().GetNumerator())
		assert.Equal(t, typev3.FractionalPercent_HUNDRED, f.GetDefaultValue().GetDenominator())
	}
	assert.Equal(t, typev3.StatusCode_Locked, rl.GetStatus().GetCode())
	require.Len(t, rl.GetResponseHeadersToAdd(), 1)
	assert.Equal(t, "x-rate-limited", rl.GetResponseHeadersToAdd()[0].GetHeader().GetKey())
	assert.Equal(t, "true", rl.GetResponseHeadersToAdd()[0].GetHeader().GetValue())
	assert.Equal(t, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD, rl.GetResponseHeadersToAdd()[0].GetAppendAction())

	r.Forward.RateLimit = &ir.LocalRateLimit{Requests: 1, Interval: 50 * time.Millisecond}
	rl = unpack(t, translateRoute(t, r).GetTypedPerFilterConfig()[localRateLimitFilter], &localratelimitv3.LocalRateLimit{})
	validateDeep(t, rl)
	assert.Nil(t, rl.GetStatus(), "no status: Envoy's 429")
	assert.Empty(t, rl.GetResponseHeadersToAdd())

	r.Forward.RateLimit = nil
	assert.Empty(t, translateRoute(t, r).GetTypedPerFilterConfig())
}

func TestRoutePolicyDecisionsMetadata(t *testing.T) {
	r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
	r.Forward.Policies = decisions
	out := translateRoute(t, r)
	assert.Equal(t, map[string]any{names.PoliciesMetadataKey: decisionsMap},
		out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].AsMap(), "a generated route gains metadata of its own")

	r.Origin = &ir.RouteOrigin{Mesh: "default", Route: "r", Rule: 1, Match: 2}
	out = translateRoute(t, r)
	assert.Equal(t, map[string]any{"mesh": "default", "route": "r", "rule": 1.0, "match": 2.0, names.PoliciesMetadataKey: decisionsMap},
		out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].AsMap())

	r.Forward.Policies = nil
	out = translateRoute(t, r)
	assert.NotContains(t, out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].GetFields(), names.PoliciesMetadataKey)
	r.Origin = nil
	assert.Nil(t, translateRoute(t, r).GetMetadata())
}

func httpFilterNames(h *hcmv3.HttpConnectionManager) []string {
	var out []string
	for _, f := range h.GetHttpFilters() {
		out = append(out, f.GetName())
	}
	return out
}

func TestHCMRateLimitFilterOnlyWhenUsed(t *testing.T) {
	h := *fixture().Listeners[1].FilterChains[0].HTTP
	assert.Equal(t, []string{wellknown.Router}, httpFilterNames(translateHCM(t, h)))

	h.RouteConfig.VirtualHosts = append([]ir.VirtualHost(nil), h.RouteConfig.VirtualHosts...)
	routes := append([]ir.Route(nil), h.RouteConfig.VirtualHosts[0].Routes...)
	fwd := *routes[0].Forward
	fwd.RateLimit = &ir.LocalRateLimit{Requests: 5, Interval: time.Second}
	routes[0].Forward = &fwd
	h.RouteConfig.VirtualHosts[0].Routes = routes
	h.Faults = []ir.Fault{{Name: "f", Abort: &ir.FaultAbort{Percent: 1, HTTPStatus: 503}}}
	out := translateHCM(t, h)
	assert.Equal(t, []string{wellknown.Fault, "envoy.filters.http.local_ratelimit", wellknown.Router}, httpFilterNames(out))
	inert := unpack(t, out.GetHttpFilters()[1].GetTypedConfig(), &localratelimitv3.LocalRateLimit{})
	validateDeep(t, inert)
	assert.Equal(t, "rate_limit", inert.GetStatPrefix())
	assert.Nil(t, inert.GetTokenBucket(), "the listener-level filter limits nothing by itself")
	assert.Nil(t, inert.GetFilterEnabled())
}

func TestTCPProxyPolicies(t *testing.T) {
	tcp := ir.TCPProxy{StatPrefix: "gw", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}},
		MaxConnectAttempts: 5, IdleTimeout: 10 * time.Minute, Policies: decisions}
	fc, _, err := filterChain(ir.FilterChain{Name: "gw:TCP:9000:*", TCP: &tcp}, nil)
	require.NoError(t, err)
	validateDeep(t, fc)
	assert.Equal(t, map[string]any{names.PoliciesMetadataKey: decisionsMap},
		fc.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].AsMap())
	cfg := unpack(t, fc.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
	assert.Equal(t, uint32(5), cfg.GetMaxConnectAttempts().GetValue())
	assert.Equal(t, 10*time.Minute, cfg.GetIdleTimeout().AsDuration())

	tcp.MaxConnectAttempts, tcp.IdleTimeout, tcp.Policies = 0, 0, nil
	fc, _, err = filterChain(ir.FilterChain{Name: "gw:TCP:9000:*", TCP: &tcp}, nil)
	require.NoError(t, err)
	assert.Nil(t, fc.GetMetadata())
	cfg = unpack(t, fc.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
	assert.Nil(t, cfg.GetMaxConnectAttempts(), "Envoy's one attempt")
	assert.Nil(t, cfg.GetIdleTimeout(), "Envoy's one hour")
}

// policyFixture is the gateway fixture with every policy setting on it.
func policyFixture() *ir.Proxy {
	p := fixture()
	tls := &p.Listeners[0]
	tls.FilterChains[1].TCP.MaxConnectAttempts = 3
	tls.FilterChains[1].TCP.IdleTimeout = time.Hour
	tls.FilterChains[1].TCP.Policies = []ir.PolicyDecision{{Kind: "Retry", Applied: "tcp-retry", Note: "best of all destinations"}}
	fwd := p.Listeners[1].FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[0].Forward
	fwd.Retry = &ir.RetryPolicy{RetryOn: "gateway-error,connect-failure,refused-stream,retriable-status-codes", NumRetries: 20,
		PerTryTimeout: 15 * time.Second, BaseInterval: 25 * time.Millisecond, MaxInterval: 250 * time.Millisecond,
		RetriableStatusCodes: []uint32{503}, RetriableMethods: []string{"GET"}}
	fwd.RateLimit = &ir.LocalRateLimit{Requests: 100, Interval: time.Minute, Status: 429, Headers: []ir.Header{{Name: "x-limited", Value: "1"}}}
	fwd.Timeout = 15 * time.Second
	fwd.Policies = decisions
	for i := range p.Clusters {
		c := &p.Clusters[i]
		if c.Name != "api" {
			continue
		}
		c.ConnectTimeout = 300 * time.Second
		c.CircuitBreaker = &ir.CircuitBreaker{MaxConnections: 1024, MaxPendingRequests: 1024, MaxRequests: 1024, MaxRetries: 3,
			Outlier: &ir.OutlierDetection{Interval: 5 * time.Second, BaseEjectionTime: 30 * time.Second, MaxEjectionPercent: ptr(uint32(20)),
				Consecutive5xx: ptr(uint32(5)), ConsecutiveGatewayFailure: ptr(uint32(5)), ConsecutiveLocalOriginFailure: ptr(uint32(5)),
				SuccessRate:       &ir.OutlierStats{RequestVolume: 10, MinimumHosts: 5, Value: 1.9},
				FailurePercentage: &ir.OutlierStats{RequestVolume: 10, MinimumHosts: 5, Value: 85}}}
		c.HealthChecks = []ir.HealthCheck{{Interval: 10 * time.Second, Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 1,
			HealthyPanicThreshold: ptr(40.0), FailTrafficOnPanic: true, EventLogPath: "/dev/stdout",
			HTTP: &ir.HTTPHealthCheck{Path: "/health", ExpectedStatuses: []uint32{200}}}}
		c.Timeouts = &ir.ClusterTimeouts{IdleTimeout: time.Hour, MaxStreamDuration: 30 * time.Minute}
		c.Policies = []ir.PolicyDecision{{Kind: "CircuitBreaker", Applied: "cb"}, {Kind: "HealthCheck", Applied: "hc"}, {Kind: "Timeout", Applied: "t"}}
	}
	return p
}

func TestTranslatePoliciesToValidConsistentSnapshot(t *testing.T) {
	res, err := Translate(policyFixture())
	require.NoError(t, err)
	for _, l := range res.Listeners {
		validateDeep(t, l)
	}
	for _, r := range res.Routes {
		validateDeep(t, r)
	}
	for _, c := range res.Clusters {
		validateDeep(t, c)
	}
	for _, e := range res.Endpoints {
		validateDeep(t, e)
	}
	_, err = snapshot.New(res)
	require.NoError(t, err, "ValidateAll and Consistent")

	api := clusterNamed(t, res, "api")
	assert.NotNil(t, api.GetCircuitBreakers())
	assert.NotNil(t, api.GetOutlierDetection())
	assert.Len(t, api.GetHealthChecks(), 1)
	assert.NotNil(t, api.GetCommonLbConfig())
	assert.Equal(t, 300*time.Second, api.GetConnectTimeout().AsDuration())

	var rt *routev3.Route
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetName() == "r/rules[0]/matches[0]" {
					rt = r
				}
			}
		}
	}
	require.NotNil(t, rt)
	assert.NotNil(t, rt.GetRoute().GetRetryPolicy())
	assert.Contains(t, rt.GetTypedPerFilterConfig(), localRateLimitFilter)

	// Same input, same bytes: the snapshot version is a hash of them.
	again, err := Translate(policyFixture())
	require.NoError(t, err)
	for i := range res.Clusters {
		assert.True(t, proto.Equal(res.Clusters[i], again.Clusters[i]))
	}
	for i := range res.Listeners {
		assert.True(t, proto.Equal(res.Listeners[i], again.Listeners[i]))
	}
	for i := range res.Routes {
		assert.True(t, proto.Equal(res.Routes[i], again.Routes[i]))
	}
}

// Without policies the output is exactly what it was: nothing in the resources mentions them.
func TestNoPoliciesNoPolicyOutput(t *testing.T) {
	res, err := Translate(fixture())
	require.NoError(t, err)
	for _, c := range res.Clusters {
		assert.Nil(t, c.GetCircuitBreakers())
		assert.Nil(t, c.GetOutlierDetection())
		assert.Empty(t, c.GetHealthChecks())
		assert.Nil(t, c.GetCommonLbConfig())
		assert.NotContains(t, c.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].GetFields(), names.PoliciesMetadataKey)
	}
	for _, l := range res.Listeners {
		for _, fc := range l.GetFilterChains() {
			assert.Nil(t, fc.GetMetadata())
		}
	}
}
