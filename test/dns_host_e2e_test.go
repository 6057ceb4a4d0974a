package test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// externalHostYAML: an mTLS mesh with the ExternalService httpbin.org:443 (the sidecar
// originates TLS) and a transparently proxied dataplane at 127.0.3.10 allowed to reach it; a
// second mesh's dataplane at 127.0.3.20.
const externalHostYAML = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: other
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: ExternalService
mesh: default
name: httpbin
tags: {kuma.io/service: httpbin, kuma.io/protocol: http}
networking:
  address: httpbin.org:443
  tls: {enabled: true}
---
type: TrafficPermission
mesh: default
name: app-to-httpbin
sources: [{match: {kuma.io/service: app}}]
destinations: [{match: {kuma.io/service: httpbin}}]
---
type: Dataplane
mesh: default
name: app-1
networking:
  address: 127.0.3.10
  inbound: [{port: 8080, tags: {kuma.io/service: app, kuma.io/protocol: http}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
---
type: Dataplane
mesh: other
name: web-1
networking:
  address: 127.0.3.20
  inbound: [{port: 8080, tags: {kuma.io/service: web}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
`

// queryFrom asks server for name's A record from the source address src, which is how the
// DNS server tells which dataplane (and so which mesh) is asking.
func queryFrom(t *testing.T, src, server, name string) (*mdns.Msg, error) {
	t.Helper()
	c := &mdns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}}}
	resp, _, err := c.Exchange(new(mdns.Msg).SetQuestion(mdns.Fqdn(name), mdns.TypeA), server)
	return resp, err
}

// TestExternalServiceHostOverDNS (docs/kuma-compatibility.md#dns-and-vips host entries): the ExternalService's own host
// resolves, for its mesh's dataplane, to a VIP on which that dataplane's ADS configuration has
// outbound listeners (the service's port and port 80) leading to the TLS-originating external
// cluster. Another mesh's dataplane and clients that are no dataplane do not get the VIP: the
// name stays outside `.mesh` for them (refused here, since the test control plane does not
// forward).
func TestExternalServiceHostOverDNS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(externalHostYAML))
	require.Equal(t, http.StatusOK, code, string(body))

	var vip string
	require.Eventually(t, func() bool {
		resp, err := queryFrom(t, "127.0.3.10", cp.addrs.DNS, "HTTPBin.org")
		if err != nil || resp.Rcode != mdns.RcodeSuccess || len(resp.Answer) == 0 {
			return false
		}
		assert.True(t, resp.Authoritative)
		vip = aRecord(t, resp)
		return true
	}, wait, 20*time.Millisecond, "httpbin.org does not resolve for app-1")
	require.True(t, strings.HasPrefix(vip, "24"), "httpbin.org VIP %s not from 240.0.0.0/4", vip)
	assert.NotEqual(t, resolveVIP(t, cp, "httpbin.mesh"), vip, "the host has a VIP of its own")

	for _, src := range []string{"127.0.3.20", "127.0.0.1"} {
		resp, err := queryFrom(t, src, cp.addrs.DNS, "httpbin.org")
		require.NoError(t, err)
		assert.Equal(t, mdns.RcodeRefused, resp.Rcode, "from %s: %s", src, resp)
		assert.Empty(t, resp.Answer, "from %s", src)
	}

	app := newMiniEnvoy(t, newSotW(t, dialADS(t, cp.addrs.XDS), "default.app-1", tokenFor(t, cp, "default", "app-1")))
	app.start()
	for _, port := range []string{"443", "80"} {
		name := "outbound:" + vip + ":" + port
		l := app.listeners[name]
		require.NotNil(t, l, "app-1 listeners: %v", sortedKeys(app.listeners))
		assert.False(t, l.GetBindToPort().GetValue(), "a VIP listener must not bind")
		assert.Equal(t, net.JoinHostPort(vip, port), joinHostPort(l.GetAddress().GetSocketAddress()))
		rc := app.routes[name]
		require.NotNil(t, rc, "app-1 routes: %v", sortedKeys(app.routes))
		require.Len(t, rc.GetVirtualHosts(), 1)
		require.NotEmpty(t, rc.GetVirtualHosts()[0].GetRoutes())
		assert.Equal(t, "httpbin", rc.GetVirtualHosts()[0].GetRoutes()[0].GetRoute().GetCluster(), name)
	}
	c := app.clusters["httpbin"]
	require.NotNil(t, c, "app-1 clusters: %v", sortedKeys(app.clusters))
	up := upstreamTLS(t, c)
	require.NotNil(t, up, "the external cluster originates TLS")
	assert.Equal(t, "httpbin.org", up.GetSni())
}
