package dns

import (
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client outside the allow list gets zone names as before but REFUSED for everything
// else, and no RA bit; an allowed client is forwarded. The dynamic part of the list
// (SetForwardAllowed) admits a client and, replaced, no longer does.
func TestForwardOnlyForAllowedClients(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, addr := startServer(t, Options{
		Upstreams: []string{fakeUpstream(t)}, ForwardTimeout: time.Second, DefaultView: "default",
		ForwardAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Registerer: reg,
	}, testZone(t))

	for _, netw := range []string{"udp", "tcp"} {
		r := exchangeFromNet(t, netw, "127.0.0.2", addr, "www.example.com.", mdns.TypeA)
		assert.Equal(t, mdns.RcodeRefused, r.Rcode, "%s: %s", netw, r)
		assert.Empty(t, r.Answer, netw)
		assert.False(t, r.RecursionAvailable, netw)

		// `.mesh` names are still answered, through the fast path (UDP) and the handler (TCP).
		r = exchangeFromNet(t, netw, "127.0.0.2", addr, "backend.mesh.", mdns.TypeA)
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, netw)
		assert.True(t, r.Authoritative, netw)
		assert.Equal(t, []string{"240.0.0.10"}, answerIPs(r), netw)
		assert.False(t, r.RecursionAvailable, "%s: no recursion for this client", netw)
		r = exchangeFromNet(t, netw, "127.0.0.2", addr, "nope.mesh.", mdns.TypeA)
		assert.Equal(t, mdns.RcodeNameError, r.Rcode, netw)

		r = exchangeFromNet(t, netw, "127.0.0.1", addr, "www.example.com.", mdns.TypeA)
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, netw)
		assert.Equal(t, []string{"192.0.2.7"}, answerIPs(r), netw)
		assert.True(t, r.RecursionAvailable, netw)
		r = exchangeFromNet(t, netw, "127.0.0.1", addr, "backend.mesh.", mdns.TypeA)
		assert.True(t, r.RecursionAvailable, "%s: recursion for an allowed client", netw)
	}
	assert.Equal(t, 1.0, testutil.ToFloat64(s.metrics.refused.WithLabelValues("udp")))
	assert.Equal(t, 1.0, testutil.ToFloat64(s.metrics.refused.WithLabelValues("tcp")))
	assert.Equal(t, 2, testutil.CollectAndCount(reg, "meshgate_dns_forward_refused_total"))

	// A known client (a dataplane, for the control plane) is allowed while it is known.
	s.SetForwardAllowed([]netip.Addr{netip.MustParseAddr("127.0.0.2")})
	for _, netw := range []string{"udp", "tcp"} {
		r := exchangeFromNet(t, netw, "127.0.0.2", addr, "www.example.com.", mdns.TypeA)
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, netw)
		assert.Equal(t, []string{"192.0.2.7"}, answerIPs(r), netw)
	}
	s.SetForwardAllowed([]netip.Addr{netip.MustParseAddr("127.0.0.3")})
	r := exchangeFromNet(t, "udp", "127.0.0.2", addr, "www.example.com.", mdns.TypeA)
	assert.Equal(t, mdns.RcodeRefused, r.Rcode, "replaced, not added to")
	r = exchangeFromNet(t, "udp", "127.0.0.3", addr, "www.example.com.", mdns.TypeA)
	assert.Equal(t, mdns.RcodeSuccess, r.Rcode)
	assert.Equal(t, 2.0, testutil.ToFloat64(s.metrics.refused.WithLabelValues("udp")))
}

// With no allow list configured only this host is forwarded.
func TestForwardAllowDefaultIsLoopback(t *testing.T) {
	s, err := New(Options{Logger: discardLogger()})
	require.NoError(t, err)
	assert.Equal(t, DefaultForwardAllow, s.allow.prefixes)
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::1": true, "::ffff:127.0.0.1": true,
		"10.0.0.1": false, "192.0.2.1": false, "fd00::1": false, "::2": false, "::ffff:10.0.0.1": false,
	} {
		assert.Equal(t, want, s.allow.allows(netip.MustParseAddr(addr)), addr)
	}
	s.SetForwardAllowed([]netip.Addr{netip.MustParseAddr("::ffff:10.0.0.1")})
	assert.True(t, s.allow.allows(netip.MustParseAddr("10.0.0.1")), "mapped and plain IPv4 are one client")

	// An empty list leaves only what SetForwardAllowed adds.
	s, err = New(Options{ForwardAllow: []netip.Prefix{}, Logger: discardLogger()})
	require.NoError(t, err)
	assert.False(t, s.allow.allows(netip.MustParseAddr("127.0.0.1")))

	// Prefixes are masked, and an IPv4-mapped prefix matches the (unmapped) IPv4 clients.
	s, err = New(Options{ForwardAllow: []netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/16"), netip.MustParsePrefix("::ffff:192.0.2.0/120"),
	}, Logger: discardLogger()})
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.0.2.0/24")}, s.allow.prefixes)
	assert.True(t, s.allow.allows(netip.MustParseAddr("192.0.2.9")))
	assert.False(t, s.allow.allows(netip.MustParseAddr("192.0.3.9")))

	_, err = New(Options{ForwardAllow: []netip.Prefix{{}}})
	assert.ErrorContains(t, err, "forward allow list")
}
