package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
)

// Route-level policy settings (docs/kuma-compatibility.md#policy-support): Retry as the route's retry_policy and RateLimit as
// the route's configuration of the local rate limit filter, as Kuma renders them.

// localRateLimitFilter is Envoy's HTTP filter name and the typed_per_filter_config key a route
// configures it under; wellknown does not define it.
const localRateLimitFilter = "envoy.filters.http.local_ratelimit"

// rateLimitStatPrefix is Kuma's stat prefix for the filter and its per-route configurations.
const rateLimitStatPrefix = "rate_limit"

// Runtime keys of the filter's enabled and enforced fractions; without a runtime layer their
// 100 % defaults apply.
const (
	rateLimitEnabledKey  = "local_rate_limit_enabled"
	rateLimitEnforcedKey = "local_rate_limit_enforced"
)

// retryPolicy is a route's retry_policy. Zero counts and durations keep Envoy's defaults
// (one retry, the route timeout per try, 25 ms back-off).
func retryPolicy(r *ir.RetryPolicy) *routev3.RetryPolicy {
	if r == nil {
		return nil
	}
	out := &routev3.RetryPolicy{
		RetryOn:              r.RetryOn,
		NumRetries:           optionalUInt32(r.NumRetries),
		PerTryTimeout:        duration(r.PerTryTimeout),
		RetriableStatusCodes: append([]uint32(nil), r.RetriableStatusCodes...),
	}
	if r.BaseInterval > 0 {
		out.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{
			BaseInterval: durationpb.New(r.BaseInterval),
			MaxInterval:  duration(r.MaxInterval),
		}
	}
	for _, m := range r.RetriableMethods {
		out.RetriableRequestHeaders = append(out.RetriableRequestHeaders, &routev3.HeaderMatcher{
			Name:                 ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact(m)},
		})
	}
	return out
}

// routeRateLimit is the per-route configuration of the local rate limit filter: a token bucket
// of Requests tokens refilled whole every Interval, enabled and enforced for every request.
func routeRateLimit(rl ir.LocalRateLimit) (*anypb.Any, error) {
	cfg := &localratelimitv3.LocalRateLimit{
		StatPrefix: rateLimitStatPrefix,
		TokenBucket: &typev3.TokenBucket{
			MaxTokens:     rl.Requests,
			TokensPerFill: wrapperspb.UInt32(rl.Requests),
			FillInterval:  durationpb.New(rl.Interval),
		},
		FilterEnabled:  allRequests(rateLimitEnabledKey),
		FilterEnforced: allRequests(rateLimitEnforcedKey),
		ResponseHeadersToAdd: append(headerOptions(rl.Headers, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			headerOptions(rl.AppendHeaders, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)...),
	}
	if rl.Status != 0 {
		cfg.Status = &typev3.HttpStatus{Code: typev3.StatusCode(rl.Status)}
	}
	return toAny(cfg)
}

func allRequests(runtimeKey string) *corev3.RuntimeFractionalPercent {
	return &corev3.RuntimeFractionalPercent{
		DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED},
		RuntimeKey:   runtimeKey,
	}
}

// rateLimited reports whether any route of rc is rate limited. Only then does the connection
// manager carry the filter: Kuma puts it on every gateway listener, but an inert filter does
// nothing, and leaving it out keeps configurations without rate limits unchanged.
func rateLimited(rc ir.RouteConfig) bool {
	for _, vh := range rc.VirtualHosts {
		for _, r := range vh.Routes {
			if r.Forward != nil && r.Forward.RateLimit != nil {
				return true
			}
		}
	}
	return false
}

// rateLimitFilter is the connection manager's local rate limit filter: without a token bucket
// of its own it limits nothing and only runs the routes' per-route configurations.
func rateLimitFilter() (*hcmv3.HttpFilter, error) {
	a, err := toAny(&localratelimitv3.LocalRateLimit{StatPrefix: rateLimitStatPrefix})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: localRateLimitFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}, nil
}
