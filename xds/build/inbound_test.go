package build

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

// inboundAddressModel has one dataplane whose inbounds reach the application at its own
// address, at the inbound's address, at an explicit 127.0.0.1 and over IPv6; TP is replaced
// by a transparentProxying block (or nothing).
const inboundAddressModel = `
type: Mesh
name: default
---
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.2
  inbound:
    - {port: 8080, tags: {kuma.io/service: backend, kuma.io/protocol: http}}
    - {port: 9090, address: 10.0.0.3, tags: {kuma.io/service: admin}}
    - {port: 7070, servicePort: 7000, serviceAddress: 127.0.0.1, tags: {kuma.io/service: metrics}}
    - {port: 6060, address: "fd00::2", tags: {kuma.io/service: v6}}
`

// localEndpoints maps each local cluster to its endpoint and upstream bind address.
func localEndpoints(t *testing.T, p *ir.Proxy) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, c := range p.Clusters {
		if c.Type != ir.ClusterStatic {
			continue
		}
		require.Len(t, c.Endpoints, 1, c.Name)
		out[c.Name] = [2]string{c.Endpoints[0].Address, c.BindAddress}
	}
	return out
}

// Kuma's WorkloadIP: serviceAddress, else the inbound's address, else networking.address.
func TestInboundForwardsToItsOwnAddress(t *testing.T) {
	m := sidecarModel(t, inboundAddressModel)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "backend", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	assert.Equal(t, map[string][2]string{
		"localhost:8080": {"10.0.0.2", ""},
		"localhost:9090": {"10.0.0.3", ""},
		"localhost:7000": {"127.0.0.1", ""},
		"localhost:6060": {"fd00::2", ""},
	}, localEndpoints(t, p), "without transparent proxying nothing is redirected, so no source address is bound")
}

// With transparent proxying a connection from Envoy to any address but 127.0.0.1 or ::1 would be
// redirected back to its inbound listener, so it leaves from the passthrough source address.
func TestInboundToOwnAddressBindsPassthroughSource(t *testing.T) {
	m := sidecarModel(t, inboundAddressModel+"  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}\n")
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "backend", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	assert.Equal(t, map[string][2]string{
		"localhost:8080": {"10.0.0.2", "127.0.0.6"},
		"localhost:9090": {"10.0.0.3", "127.0.0.6"},
		"localhost:7000": {"127.0.0.1", ""},
		"localhost:6060": {"fd00::2", "::6"},
	}, localEndpoints(t, p))
}

// 127.0.0.2 is loopback but not 127.0.0.1: Kuma's rules redirect it, so it is bound too.
func TestInboundOnOtherLoopbackAddressIsBound(t *testing.T) {
	m := sidecarModel(t, `
type: Mesh
name: default
---
type: Dataplane
name: backend
mesh: default
networking:
  address: 127.0.0.2
  inbound: [{port: 8080, tags: {kuma.io/service: backend}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
`)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "backend", Options: DefaultOptions()})
	require.NoError(t, err)
	assert.Equal(t, [2]string{"127.0.0.2", "127.0.0.6"}, localEndpoints(t, p)["localhost:8080"])
}

// A StatefulSet pod behind a Service and its headless twin has two inbounds on one port (Kuma's
// derivation, kube/podconv): one listener serves the port, and the proxy stays valid.
func TestInboundsSharingAPortShareTheListener(t *testing.T) {
	m := sidecarModel(t, `
type: Mesh
name: default
---
type: Dataplane
name: db-0
mesh: default
networking:
  address: 10.0.0.9
  inbound:
    - {port: 5432, tags: {kuma.io/service: db_ns_svc_5432}}
    - {port: 5432, tags: {kuma.io/service: db-headless_ns_svc_5432, kuma.io/instance: db-0}}
`)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "db-0", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	var inbound []string
	for _, l := range p.Listeners {
		if l.Direction == ir.DirectionInbound {
			inbound = append(inbound, l.Name)
		}
	}
	assert.Equal(t, []string{"inbound:10.0.0.9:5432"}, inbound)
}

// A pod no Service selects has Kuma's service-less inbound on port 49151: it carries the pod's
// identity, but nothing listens there and nobody can call it.
func TestServicelessInboundHasNoListener(t *testing.T) {
	m := sidecarModel(t, `
type: Mesh
name: default
---
type: Dataplane
name: job-0.ns
mesh: default
networking:
  address: 10.0.0.7
  inbound:
    - {port: 49151, tags: {kuma.io/service: job_ns_svc, kuma.io/instance: job-0}}
---
type: Dataplane
name: web-0.ns
mesh: default
networking:
  address: 10.0.0.8
  inbound:
    - {port: 8080, tags: {kuma.io/service: web_ns_svc_8080}}
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
`)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "job-0.ns", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	for _, l := range p.Listeners {
		assert.NotEqual(t, ir.DirectionInbound, l.Direction, "listener %s", l.Name)
	}
	web, err := Proxy(Request{Model: m, Mesh: "default", Name: "web-0.ns", Options: DefaultOptions()})
	require.NoError(t, err)
	for _, c := range web.Clusters {
		assert.NotContains(t, c.Name, "job_ns_svc", "a service-less inbound is no service to call")
	}
}
