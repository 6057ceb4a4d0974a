package explain

import (
	"errors"
	"fmt"

	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// checkFaults evaluates the connection manager's fault filters on the request: each applies
// when all its header matchers match (Kuma's FaultInjections match the caller's tags in
// x-kuma-tags this way). Route-level overrides are not followed.
func (e *explainer) checkFaults(hcm *hcmv3.HttpConnectionManager, r *httpRequest) error {
	for _, f := range hcm.GetHttpFilters() {
		a := f.GetTypedConfig()
		if a == nil || envoyres.TypeName(a) != envoyres.HTTPFaultType {
			continue
		}
		cfg := &faultv3.HTTPFault{}
		if err := a.UnmarshalTo(cfg); err != nil {
			return fmt.Errorf("HTTP filter %q: %w", f.GetName(), err)
		}
		out := Fault{Applies: true}
		for _, h := range cfg.GetHeaders() {
			out.Headers = append(out.Headers, describeHeader(h))
		}
		if d := cfg.GetDelay(); d != nil {
			out.Delay = formatDuration(d.GetFixedDelay())
			if d.GetHeaderDelay() != nil {
				out.Delay = "from the x-envoy-fault-delay-request header"
			}
			out.DelayPercent = faultPercent(d.GetPercentage())
		}
		if ab := cfg.GetAbort(); ab != nil {
			switch {
			case ab.GetHttpStatus() != 0:
				out.Abort = fmt.Sprintf("HTTP %d", ab.GetHttpStatus())
			case ab.GetGrpcStatus() != 0:
				out.Abort = fmt.Sprintf("gRPC status %d", ab.GetGrpcStatus())
			case ab.GetHeaderAbort() != nil:
				out.Abort = "from the x-envoy-fault-abort-request header"
			}
			out.AbortPercent = faultPercent(ab.GetPercentage())
		}
		if rl := cfg.GetResponseRateLimit(); rl != nil {
			out.ResponseRateLimitKbps = rl.GetFixedLimit().GetLimitKbps()
			out.ResponseRateLimitPercent = faultPercent(rl.GetPercentage())
		}
		for _, h := range cfg.GetHeaders() {
			ok, err := e.matchHeader(h, r)
			if errors.Is(err, errUnsupported) {
				e.out.note("fault filter %q: %v", f.GetName(), err)
				ok, err = false, nil
			}
			if err != nil {
				return fmt.Errorf("HTTP filter %q: %w", f.GetName(), err)
			}
			if !ok {
				out.Applies = false
				break
			}
		}
		if len(cfg.GetDownstreamNodes()) > 0 || cfg.GetUpstreamCluster() != "" {
			e.out.note("fault filter %q also selects by downstream node or upstream cluster, which explain does not check", f.GetName())
		}
		e.out.Faults = append(e.out.Faults, out)
	}
	return nil
}

// faultPercent: a fault without a percentage applies to no request.
func faultPercent(f *typev3.FractionalPercent) float64 {
	if f == nil {
		return 0
	}
	return percent(f)
}
