package build

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
)

func TestPrincipal(t *testing.T) {
	cases := []struct {
		name string
		src  map[string]string
		mesh string
		want []ir.SANMatch
	}{
		{"service in own mesh", map[string]string{"kuma.io/service": "web"}, "default",
			[]ir.SANMatch{{Kind: ir.SANExact, Value: "spiffe://default/web"}}},
		{"any service of own mesh", map[string]string{"kuma.io/service": "*"}, "default",
			[]ir.SANMatch{{Kind: ir.SANPrefix, Value: "spiffe://default/"}}},
		{"service of another mesh", map[string]string{"kuma.io/service": "web", "kuma.io/mesh": "shop"}, anyMesh,
			[]ir.SANMatch{{Kind: ir.SANExact, Value: "spiffe://shop/web"}}},
		{"whole other mesh", map[string]string{"kuma.io/mesh": "shop"}, anyMesh,
			[]ir.SANMatch{{Kind: ir.SANPrefix, Value: "spiffe://shop/"}}},
		{"anyone at a cross-mesh gateway", map[string]string{"kuma.io/service": "*"}, anyMesh,
			[]ir.SANMatch{{Kind: ir.SANPrefix, Value: "spiffe://"}}},
		{"a service of any mesh", map[string]string{"kuma.io/service": "a.b"}, anyMesh,
			[]ir.SANMatch{{Kind: ir.SANRegex, Value: `^spiffe://[^/]+/a\.b$`}}},
		{"tags become kuma URIs", map[string]string{"kuma.io/service": "web", "version": "v1", "zone": "*"}, "default",
			[]ir.SANMatch{
				{Kind: ir.SANExact, Value: "spiffe://default/web"},
				{Kind: ir.SANExact, Value: "kuma://version/v1"},
				{Kind: ir.SANPrefix, Value: "kuma://zone/"},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, principal(c.src, c.mesh).URIs)
		})
	}
}

func sidecarModel(t *testing.T, yaml string) *model.Model {
	t.Helper()
	objs, errs := api.Decode("test.yaml", []byte(yaml))
	require.Empty(t, errs)
	m, errs := model.Build(objs)
	require.Empty(t, errs)
	return m
}

const twoServices = `
type: Mesh
name: default
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Dataplane
name: web
mesh: default
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
  outbound: [{port: 9000, tags: {kuma.io/service: backend}}]
---
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.2
  inbound: [{port: 8080, servicePort: 3000, tags: {kuma.io/service: backend, kuma.io/protocol: http}}]
`

func TestSidecarDeniesWithoutPermissionAndOutbound(t *testing.T) {
	m := sidecarModel(t, twoServices)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "backend", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	require.Len(t, p.Listeners, 1)
	l := p.Listeners[0]
	assert.Equal(t, "inbound:10.0.0.2:8080", l.Name)
	fc := l.FilterChains[0]
	require.NotNil(t, fc.RBAC, "an mTLS inbound always has its RBAC filter")
	assert.Empty(t, fc.RBAC.Policies, "the mesh has no permission, so nobody is admitted (no implicit allow-all)")
	assert.Equal(t, "mesh_ca:secret:default", fc.TLS.ValidationSecret)
	assert.Equal(t, "localhost:3000", fc.HTTP.RouteConfig.VirtualHosts[0].Routes[0].Forward.Clusters[0].Name)

	web, err := Proxy(Request{Model: m, Mesh: "default", Name: "web", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, web.Validate())
	var out *ir.Listener
	for i := range web.Listeners {
		if web.Listeners[i].Name == "outbound:127.0.0.1:9000" {
			out = &web.Listeners[i]
		}
	}
	require.NotNil(t, out)
	assert.False(t, out.Virtual, "an explicit outbound binds")
	route := out.FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[0]
	assert.Equal(t, "backend", route.Forward.Clusters[0].Name)
	assert.Equal(t, []ir.Header{{Name: "x-kuma-tags", Value: "&kuma.io/protocol=http&kuma.io/service=web&"}}, route.RequestHeaders.Set)
}

// skipCreatingInitialPolicies is accepted and changes nothing: meshgate creates no policies.
func TestSkipInitialPoliciesDeniesAll(t *testing.T) {
	m := sidecarModel(t, strings.Replace(twoServices, "mtls:", "skipCreatingInitialPolicies: ['*']\nmtls:", 1))
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "backend", Options: DefaultOptions()})
	require.NoError(t, err)
	assert.Empty(t, p.Listeners[0].FilterChains[0].RBAC.Policies)
}

func TestKumaLogPlaceholders(t *testing.T) {
	m := sidecarModel(t, twoServices)
	b := &builder{mesh: m.Mesh("default"), dp: m.Mesh("default").Dataplane("web"), proxy: &ir.Proxy{}}
	tl := &api.TrafficLog{Meta: api.Meta{Name: "tl"}}
	got := b.logFormat(tl, "%KUMA_MESH% %KUMA_SOURCE_SERVICE%->%KUMA_DESTINATION_SERVICE% %KUMA_SOURCE_ADDRESS_WITHOUT_PORT% %RESPONSE_CODE%", map[string]string{"kuma.io/service": "backend"})
	assert.Equal(t, "default web->backend 10.0.0.1 %RESPONSE_CODE%\n", got)
	assert.Empty(t, b.proxy.Diagnostics)
	assert.Equal(t, "", b.logFormat(tl, "%KUMA_NOPE%", nil))
	require.Len(t, b.proxy.Diagnostics, 1)
	assert.Contains(t, b.proxy.Diagnostics[0].Message, "%KUMA_NOPE%")
}

// An outbound declared on an inbound's address and port is skipped with a diagnostic; the rest
// of the dataplane still gets its configuration.
func TestOutboundOnInboundAddressIsADiagnostic(t *testing.T) {
	m := sidecarModel(t, strings.Replace(twoServices, "outbound: [{port: 9000, tags: {kuma.io/service: backend}}]",
		"outbound: [{port: 8080, address: 10.0.0.1, tags: {kuma.io/service: backend}}]", 1))
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "web", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	require.Len(t, p.Listeners, 1)
	require.Len(t, p.Diagnostics, 1)
	assert.Equal(t, "networking.outbound[0]", p.Diagnostics[0].Field)
	assert.Contains(t, p.Diagnostics[0].Message, "inbound:10.0.0.1:8080")
}

// Two listeners whose tags select different Timeouts for one destination get a cluster each
// (Kuma's golden test 20); the routes point at their own listener's cluster.
func TestPerListenerClusterVariants(t *testing.T) {
	m := sidecarModel(t, `
type: Dataplane
mesh: default
name: gw-1
networking: {address: 10.0.0.9, gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}}
---
type: MeshGateway
mesh: default
name: gw
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
    - {port: 8080, protocol: HTTP, hostname: one.example.com, tags: {name: one}}
    - {port: 8080, protocol: HTTP, hostname: two.example.com, tags: {name: two}}
---
type: MeshGatewayRoute
mesh: default
name: echo
selectors: [{match: {kuma.io/service: gw}}]
conf:
  http:
    rules: [{matches: [{path: {match: PREFIX, value: /}}], backends: [{destination: {kuma.io/service: echo}}]}]
---
type: Timeout
mesh: default
name: timeout-one
sources: [{match: {kuma.io/service: gw, name: one}}]
destinations: [{match: {kuma.io/service: echo}}]
conf: {connectTimeout: 1s}
---
type: Timeout
mesh: default
name: timeout-two
sources: [{match: {kuma.io/service: gw, name: two}}]
destinations: [{match: {kuma.io/service: echo}}]
conf: {connectTimeout: 2s}
`)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "gw-1", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	timeouts := map[string]time.Duration{}
	for _, c := range p.Clusters {
		timeouts[c.Name] = c.ConnectTimeout
	}
	assert.Equal(t, map[string]time.Duration{"echo": time.Second, "echo[timeout-two]": 2 * time.Second}, timeouts)
	routed := map[string]string{}
	for _, vh := range p.Listeners[0].FilterChains[0].HTTP.RouteConfig.VirtualHosts {
		for _, r := range vh.Routes {
			if r.Forward != nil {
				routed[vh.Name] = r.Forward.Clusters[0].Name
			}
		}
	}
	assert.Equal(t, "echo", routed["one.example.com"])
	assert.Equal(t, "echo[timeout-two]", routed["two.example.com"])
}
