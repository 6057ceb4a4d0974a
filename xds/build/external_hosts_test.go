package build

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/xds/ir"
)

// externalHosts: api.example.com has two ExternalServices on two ports (one VIP, the 80 alias
// to the lower port), httpbin.org is on port 80 itself, quiet.example.com opts out.
const externalHosts = `
type: Mesh
name: default
---
type: ExternalService
mesh: default
name: api-a
tags: {kuma.io/service: api-a}
networking: {address: "api.example.com:9000"}
---
type: ExternalService
mesh: default
name: api-b
tags: {kuma.io/service: api-b}
networking: {address: "api.example.com:8443"}
---
type: ExternalService
mesh: default
name: httpbin
tags: {kuma.io/service: httpbin}
networking: {address: "httpbin.org:80"}
---
type: ExternalService
mesh: default
name: quiet
tags: {kuma.io/service: quiet}
networking: {address: "quiet.example.com:443", disableHostDNSEntry: true}
---
type: Dataplane
mesh: default
name: app-1
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: app}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
`

func TestExternalHostOutbounds(t *testing.T) {
	m := sidecarModel(t, externalHosts)
	network := PreviewNetwork(m)
	require.Empty(t, network.Problems)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "app-1", Options: DefaultOptions(), Network: network})
	require.NoError(t, err)
	assert.Empty(t, p.Diagnostics)

	got := map[string]string{} // address:port → cluster, for virtual outbounds
	for _, l := range p.Listeners {
		if !l.Virtual || l.Direction != ir.DirectionOutbound || len(l.FilterChains) != 1 || l.FilterChains[0].TCP == nil {
			continue
		}
		got[net.JoinHostPort(l.Address, strconv.Itoa(int(l.Port)))] = l.FilterChains[0].TCP.Clusters[0].Name
	}
	at := func(name string, port int) string {
		v := network.VIPs[vip.Key{Mesh: "default", Name: name}].V4
		require.True(t, v.IsValid(), name)
		return net.JoinHostPort(v.String(), strconv.Itoa(port))
	}
	want := map[string]string{
		at("app.mesh", 80):   "app",
		at("api-a.mesh", 80): "api-a", at("api-a.mesh", 9000): "api-a",
		at("api-b.mesh", 80): "api-b", at("api-b.mesh", 8443): "api-b",
		at("httpbin.mesh", 80): "httpbin",
		at("quiet.mesh", 80):   "quiet", at("quiet.mesh", 443): "quiet",
		// The host entries: one VIP per host, each port to its own service.
		at("api.example.com", 9000): "api-a",
		at("api.example.com", 8443): "api-b",
		at("api.example.com", 80):   "api-b", // the alias goes to the lowest port
		at("httpbin.org", 80):       "httpbin",
	}
	assert.Equal(t, want, got)
	_, ok := network.VIPs[vip.Key{Mesh: "default", Name: "quiet.example.com"}]
	assert.False(t, ok, "disableHostDNSEntry: no VIP")

	v, ok := network.Resolve("default", "api.example.com")
	require.True(t, ok)
	assert.Equal(t, network.VIPs[vip.Key{Mesh: "default", Name: "api.example.com"}].V4, v)
	_, ok = network.Resolve("other", "api.example.com")
	assert.False(t, ok)
}

// An ExternalService addressed by IP gets a listener on that IP and port, so a transparent
// application connecting to it directly still goes through the external cluster.
func TestExternalServiceIPLiteralListener(t *testing.T) {
	m := sidecarModel(t, `
type: Mesh
name: default
---
type: ExternalService
mesh: default
name: db
tags: {kuma.io/service: db}
networking: {address: "192.0.2.10:5432"}
---
type: Dataplane
mesh: default
name: app-1
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: app}}]
  transparentProxying: {redirectPortOutbound: 15001}
`)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "app-1", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	var found bool
	for _, l := range p.Listeners {
		if l.Name == "outbound:192.0.2.10:5432" {
			found = true
			assert.True(t, l.Virtual)
			assert.Equal(t, "db", l.FilterChains[0].TCP.Clusters[0].Name)
		}
	}
	assert.True(t, found, "listener on the ExternalService's own IP and port")
}
