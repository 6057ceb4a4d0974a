package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rateLimitCase = "../../xds/testdata/golden/parity-ratelimit-inbound/input.yaml"

// --source sends the x-kuma-tags the source's proxy sets, so the destination's inbound picks the
// RateLimit (and FaultInjection) of that source; a header given by hand wins.
func TestExplainSourceSendsItsTags(t *testing.T) {
	args := []string{"explain", "-f", rateLimitCase, "--dataplane", "default/backend-1", "--port", "8080", "--host", "backend.mesh"}
	out, stderr, code := runCLI(t, append(args, "--source", "default/web-1")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "route              Envoy route inbound/web-to-backend/sources[0]\n")
	assert.Contains(t, out, "rate limit         10 requests / 1s  status 423  headers x-rate-limited: true\n")

	out, stderr, code = runCLI(t, append(args, "--source", "default/admin-1")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "Envoy route inbound/backend-limit/sources[0]\n")
	assert.Contains(t, out, "100 requests / 1s  status 429\n")

	out, stderr, code = runCLI(t, append(args, "--source", "default/web-1", "--header", "x-kuma-tags=&kuma.io/service=admin&")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "Envoy route inbound/backend-limit/sources[0]\n")

	out, stderr, code = runCLI(t, append(args, "--source-uri", "spiffe://default/web")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "Envoy route inbound\n", "a certificate alone carries no tags")
	assert.NotContains(t, out, "rate limit")
}
