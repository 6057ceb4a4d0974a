package translate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

// NoTimeout is an explicit `timeout: 0s` (off); an unset timeout would be Envoy's 15 s.
func TestRouteWithoutRequestTimeout(t *testing.T) {
	r := ir.Route{Name: "outbound", Match: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
		Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: "backend", Weight: 1}}, NoTimeout: true, IdleTimeout: 30 * time.Minute}}
	a := translateRoute(t, r).GetRoute()
	require.NotNil(t, a.GetTimeout(), "timeout must be set to 0, not left to Envoy's default")
	assert.Equal(t, time.Duration(0), a.GetTimeout().AsDuration())
	assert.Equal(t, 30*time.Minute, a.GetIdleTimeout().AsDuration())

	r.Forward.NoTimeout = false
	assert.Nil(t, translateRoute(t, r).GetRoute().GetTimeout())
}

// A sidecar connection manager's stream idle timeout; 0 keeps Envoy's default (unset).
func TestSidecarStreamIdleTimeout(t *testing.T) {
	h := ir.HTTPConnectionManager{StatPrefix: "localhost:8080", Sidecar: true, StreamIdleTimeout: time.Hour,
		RouteConfig: ir.RouteConfig{Name: "inbound:web"}}
	assert.Equal(t, time.Hour, translateHCM(t, h).GetStreamIdleTimeout().AsDuration())
	h.StreamIdleTimeout = 0
	assert.Nil(t, translateHCM(t, h).GetStreamIdleTimeout())
}
