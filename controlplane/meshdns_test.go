package controlplane

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store/sqlite"
)

// ExternalService hosts reach the zone: a host outside `.mesh` as an override of the mesh's
// view, one inside `.mesh` as a view name, each resolving to the VIP the Network builds the
// outbound listeners on.
func TestMeshDNSExternalServiceHosts(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newMeshDNS(DNSConfig{Address: "127.0.0.1:0", TTL: 30 * time.Second, DefaultMesh: "default", VIPCIDR: "240.0.0.0/4"}, st, nil, log)
	require.NoError(t, err)

	objs, errs := api.Decode("in.yaml", []byte(`
type: Mesh
name: default
---
type: ExternalService
mesh: default
name: httpbin
tags: {kuma.io/service: httpbin}
networking: {address: "httpbin.org:443"}
---
type: ExternalService
mesh: default
name: legacy
tags: {kuma.io/service: legacy}
networking: {address: "old.mesh:8080"}
---
type: Dataplane
mesh: default
name: app-1
networking: {address: 127.0.4.10, inbound: [{port: 80, tags: {kuma.io/service: app}}]}
`))
	require.Empty(t, errs)
	m, errs := model.Build(objs)
	require.Empty(t, errs)
	network, err := d.update(ctx, m)
	require.NoError(t, err)

	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(func() { cancel(); d.server.Close() })
	require.NoError(t, d.server.Start(sctx))
	addr, _ := d.server.Addr()
	query := func(src, name string) *mdns.Msg {
		c := &mdns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}}}
		r, _, err := c.Exchange(new(mdns.Msg).SetQuestion(name, mdns.TypeA), addr)
		require.NoError(t, err)
		return r
	}
	for _, name := range []string{"httpbin.org", "old.mesh"} {
		want, ok := network.Resolve("default", name)
		require.True(t, ok, name)
		r := query("127.0.4.10", name+".")
		require.Len(t, r.Answer, 1, "%s: %s", name, r)
		assert.Equal(t, want.String(), r.Answer[0].(*mdns.A).A.String(), name)
	}
	// Not a dataplane: the default mesh's view for `.mesh` names, but no override.
	assert.Len(t, query("127.0.4.11", "old.mesh.").Answer, 1)
	assert.Equal(t, mdns.RcodeRefused, query("127.0.4.11", "httpbin.org.").Rcode)
}

// A cross-mesh listener hostname outside `.mesh` resolves for every mesh's dataplanes (as an
// override) and does not break the zone for every other name.
func TestMeshDNSCrossMeshHostnameOutsideMesh(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newMeshDNS(DNSConfig{Address: "127.0.0.1:0", TTL: 30 * time.Second, DefaultMesh: "default", VIPCIDR: "240.0.0.0/4"}, st, nil, log)
	require.NoError(t, err)
	objs, errs := api.Decode("in.yaml", []byte(`
type: Mesh
name: payments
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Mesh
name: shop
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: Dataplane
mesh: payments
name: gw-1
networking: {address: 127.0.5.1, gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}}
---
type: MeshGateway
mesh: payments
name: gw
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 8080, protocol: HTTP, crossMesh: true, hostname: api.example.com}]}
---
type: Dataplane
mesh: shop
name: app-1
networking: {address: 127.0.5.10, inbound: [{port: 80, tags: {kuma.io/service: app}}]}
`))
	require.Empty(t, errs)
	m, errs := model.Build(objs)
	require.Empty(t, errs)
	network, err := d.update(ctx, m)
	require.NoError(t, err)
	want, ok := network.Resolve("shop", "api.example.com")
	require.True(t, ok)

	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(func() { cancel(); d.server.Close() })
	require.NoError(t, d.server.Start(sctx))
	addr, _ := d.server.Addr()
	c := &mdns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.5.10")}}}
	r, _, err := c.Exchange(new(mdns.Msg).SetQuestion("api.example.com.", mdns.TypeA), addr)
	require.NoError(t, err)
	require.Len(t, r.Answer, 1, r.String())
	assert.Equal(t, want.String(), r.Answer[0].(*mdns.A).A.String())
	r, _, err = c.Exchange(new(mdns.Msg).SetQuestion("app.mesh.", mdns.TypeA), addr)
	require.NoError(t, err)
	assert.Len(t, r.Answer, 1, "the rest of the zone still works")
}
