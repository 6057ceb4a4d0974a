package build

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

const rateLimited = `
type: Mesh
name: default
---
type: Dataplane
name: web
mesh: default
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
  outbound:
  - {port: 9000, tags: {kuma.io/service: backend}}
  - {port: 9001, tags: {kuma.io/service: example}}
---
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.2
  inbound:
  - {port: 8080, tags: {kuma.io/service: backend, kuma.io/protocol: http}}
  - {port: 5432, tags: {kuma.io/service: backend-db, kuma.io/protocol: tcp}}
---
type: ExternalService
mesh: default
name: example
tags: {kuma.io/service: example, kuma.io/protocol: http}
networking: {address: example.org:80}
---
type: RateLimit
mesh: default
name: any
sources: [{match: {kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: '*'}}]
conf: {http: {requests: 100, interval: 1s}}
---
type: RateLimit
mesh: default
name: web-v1
creationTime: 2024-01-02T00:00:00Z
sources: [{match: {kuma.io/service: web, version: v1}}, {match: {kuma.io/service: web}}]
destinations: [{match: {kuma.io/service: backend}}]
conf: {http: {requests: 5, interval: 1s}}
---
type: RateLimit
mesh: default
name: web-newer
creationTime: 2024-01-03T00:00:00Z
sources: [{match: {kuma.io/service: web}}]
destinations: [{match: {kuma.io/service: backend}}]
conf: {http: {requests: 7, interval: 1s}}
---
type: RateLimit
mesh: default
name: no-http
sources: [{match: {kuma.io/service: admin}}]
destinations: [{match: {kuma.io/service: backend}}]
conf: {}
`

// The destination's HTTP inbound gets a route per RateLimit source, most specific first and
// among equals the newest policy first, then the unlimited fallback; its TCP inbound none.
func TestRateLimitOnTheInbound(t *testing.T) {
	m := sidecarModel(t, rateLimited)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "backend", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	var routes []ir.Route
	for _, l := range p.Listeners {
		if l.Name == "inbound:10.0.0.2:8080" {
			routes = l.FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes
		}
	}
	var got []string
	for _, r := range routes {
		s := r.Name
		for _, h := range r.Match.Headers {
			s += " " + h.Name + "~" + h.Value
		}
		if rl := r.Forward.RateLimit; rl != nil {
			s += fmt.Sprintf(" limit %d/%s", rl.Requests, rl.Interval)
		}
		got = append(got, s)
	}
	assert.Equal(t, []string{
		`inbound/web-v1/sources[0] x-kuma-tags~.*&kuma\.io/service=web&.* x-kuma-tags~.*&version=v1&.* limit 5/1s`,
		`inbound/web-newer/sources[0] x-kuma-tags~.*&kuma\.io/service=web&.* limit 7/1s`,
		`inbound/web-v1/sources[1] x-kuma-tags~.*&kuma\.io/service=web&.* limit 5/1s`,
		`inbound/any/sources[0] x-kuma-tags~.*&kuma\.io/service=[^&]*&.* limit 100/1s`,
		`inbound`,
	}, got, "no-http limits nothing, so it gets no route")
	require.Len(t, p.Diagnostics, 1)
	assert.Equal(t, "RateLimit default/no-http", p.Diagnostics[0].Resource)

	for _, l := range p.Listeners {
		if l.Name == "inbound:10.0.0.2:5432" {
			assert.Nil(t, l.FilterChains[0].HTTP, "a TCP inbound has no routes to limit")
		}
	}
}

// The caller's outbound to a mesh service carries no bucket (it only says where the limit is);
// its outbound to an ExternalService, which no inbound of the mesh sees, keeps Kuma's bucket.
func TestRateLimitNotOnMeshOutbounds(t *testing.T) {
	m := sidecarModel(t, rateLimited)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "web", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	fwd := map[string]*ir.Forward{}
	for _, l := range p.Listeners {
		if l.Direction == ir.DirectionOutbound {
			fwd[l.Name] = l.FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[0].Forward
		}
	}
	mesh := fwd["outbound:127.0.0.1:9000"]
	require.NotNil(t, mesh)
	assert.Nil(t, mesh.RateLimit)
	require.Len(t, mesh.Policies, 1)
	assert.Equal(t, "RateLimit", mesh.Policies[0].Kind)
	assert.Empty(t, mesh.Policies[0].Applied)
	assert.Contains(t, mesh.Policies[0].Note, "candidates: any, web-newer, web-v1")

	ext := fwd["outbound:127.0.0.1:9001"]
	require.NotNil(t, ext)
	require.NotNil(t, ext.RateLimit)
	assert.Equal(t, uint32(100), ext.RateLimit.Requests)
	require.Len(t, ext.Policies, 1)
	assert.Equal(t, "any", ext.Policies[0].Applied)
}
