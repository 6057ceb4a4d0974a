package controlplane

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
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

// testUpstream is a resolver on loopback that answers every A query with 192.0.2.53.
func testUpstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		m.Answer = []mdns.RR{&mdns.A{
			Hdr: mdns.RR_Header{Name: req.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
			A:   net.IPv4(192, 0, 2, 53),
		}}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// Forwarding is for the configured clients and every known dataplane, as the model says at
// each update: a client that stops being a dataplane is refused again. Everyone still gets
// `.mesh` names.
func TestMeshDNSForwardAllowsKnownDataplanes(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newMeshDNS(DNSConfig{
		Address: "127.0.0.1:0", TTL: 30 * time.Second, DefaultMesh: "default", VIPCIDR: "240.0.0.0/4",
		Forward: true, Upstreams: []string{testUpstream(t)}, ForwardAllow: []string{"127.0.0.1/32"},
	}, st, nil, log)
	require.NoError(t, err)
	const meshYAML = `
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: app-1
networking: {address: 127.0.6.10, inbound: [{port: 80, tags: {kuma.io/service: app}}]}
`
	modelOf := func(yaml string) *model.Model {
		objs, errs := api.Decode("in.yaml", []byte(yaml))
		require.Empty(t, errs)
		m, errs := model.Build(objs)
		require.Empty(t, errs)
		return m
	}
	_, err = d.update(ctx, modelOf(meshYAML))
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
	forwarded := func(r *mdns.Msg) bool {
		return r.Rcode == mdns.RcodeSuccess && len(r.Answer) == 1 && r.Answer[0].(*mdns.A).A.String() == "192.0.2.53"
	}
	assert.True(t, forwarded(query("127.0.0.1", "example.com.")), "configured prefix")
	assert.True(t, forwarded(query("127.0.6.10", "example.com.")), "known dataplane")
	r := query("127.0.6.11", "example.com.")
	assert.Equal(t, mdns.RcodeRefused, r.Rcode, "neither: %s", r)
	assert.Len(t, query("127.0.6.11", "app.mesh.").Answer, 1, "`.mesh` names for everyone")

	// The dataplane is gone: so is its forwarding.
	_, err = d.update(ctx, modelOf("type: Mesh\nname: default\n"))
	require.NoError(t, err)
	assert.Equal(t, mdns.RcodeRefused, query("127.0.6.10", "example.com.").Rcode)
	assert.True(t, forwarded(query("127.0.0.1", "example.com.")))
}

func TestMeshDNSForwardAllowInvalid(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, bad := range []string{"10.0.0.0/33", "not-a-cidr", "10.0.0/8"} {
		_, err = newMeshDNS(DNSConfig{
			Address: "127.0.0.1:0", TTL: 30 * time.Second, DefaultMesh: "default", VIPCIDR: "240.0.0.0/4",
			Forward: true, ForwardAllow: []string{"127.0.0.0/8", bad},
		}, st, nil, log)
		require.Error(t, err, bad)
		assert.ErrorContains(t, err, "--dns-forward-allow", bad)
		assert.ErrorContains(t, err, bad, bad)
	}
	// A single address is a one-host prefix; blanks (a trailing comma) are skipped.
	allow, err := forwardAllow([]string{"10.1.2.3", " fd00::/8", ""})
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32"), netip.MustParsePrefix("fd00::/8")}, allow)
	allow, err = forwardAllow(nil)
	require.NoError(t, err)
	assert.Nil(t, allow, "nil: the dns package's default")
}
