package ir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Kuma's sidecar defaults: a sidecar connection manager's own stream idle timeout, a route
// whose request timeout is explicitly off.
func TestValidateSidecarTimeouts(t *testing.T) {
	p := sidecarProxy(t)
	inbound(p).HTTP.StreamIdleTimeout = time.Hour
	require.NoError(t, p.Validate())

	g := validProxy()
	fwd := g.Listeners[0].FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[0].Forward
	fwd.NoTimeout = true
	require.NoError(t, g.Validate())

	fwd.Timeout = 15 * time.Second
	err := g.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "noTimeout: turns the request timeout off, so timeout must be 0, got 15s")

	g = validProxy()
	g.Listeners[0].FilterChains[0].HTTP.StreamIdleTimeout = time.Hour
	err = g.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http.streamIdleTimeout: only a sidecar connection manager has its own")

	p = sidecarProxy(t)
	inbound(p).HTTP.StreamIdleTimeout = -time.Second
	err = p.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), hcm+".streamIdleTimeout: must not be negative")
}
