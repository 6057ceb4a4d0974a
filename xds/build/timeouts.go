package build

import (
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
)

// Kuma 2.x's effective sidecar timeouts where no Timeout policy says otherwise: its default
// sidecar MeshTimeout (outbound: 30 min stream idle on the route) and its inbound defaults
// (DefaultInboundTimeout and the MeshTimeout's inbound side: 1 h stream idle, no request
// timeout). Envoy's own defaults (5 min stream idle, 15 s request timeout) would cut long polls,
// server-sent events and long gRPC streams that work under Kuma.
const (
	// inboundStreamIdleTimeout is an HTTP inbound's stream_idle_timeout: 2 × 30 min.
	inboundStreamIdleTimeout = time.Hour
	// outboundRouteIdleTimeout is an outbound route's idle_timeout, which overrides the
	// connection manager's stream_idle_timeout for that route.
	outboundRouteIdleTimeout = 30 * time.Minute
)

// outboundTimeoutDefaults gives an outbound route that no Timeout policy configures Kuma's
// defaults: no request timeout (Envoy's `timeout: 0s`) and a 30 min stream idle timeout. A
// route with a Timeout keeps exactly what the policy sets.
func outboundTimeoutDefaults(fwd *ir.Forward) {
	for _, d := range fwd.Policies {
		if d.Kind == string(api.KindTimeout) && d.Applied != "" {
			return
		}
	}
	fwd.NoTimeout = true
	fwd.IdleTimeout = outboundRouteIdleTimeout
}
