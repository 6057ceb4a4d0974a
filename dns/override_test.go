package dns

import (
	"net"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// overrideZone is testZone plus httpbin.org overridden in the views "default" and "team-b"
// with different VIPs, and a v6-only override in "default".
func overrideZone(t testing.TB) *Zone {
	t.Helper()
	z, err := NewZone(ZoneConfig{
		Global: []Record{{Name: "internal.edge.default.mesh", A: mustAddrs(t, "240.0.0.1")}},
		Views: map[string][]Record{
			"default": {{Name: "backend.mesh", A: mustAddrs(t, "240.0.0.10")}},
			"team-b":  {{Name: "backend.mesh", A: mustAddrs(t, "240.0.0.20")}},
		},
		Overrides: map[string][]Record{
			"default": {
				{Name: "HTTPBin.org.", A: mustAddrs(t, "240.0.0.11")},
				{Name: "v6.example.com", AAAA: mustAddrs(t, "fd00::11")},
			},
			"team-b": {{Name: "httpbin.org", A: mustAddrs(t, "240.0.0.21")}},
		},
	})
	require.NoError(t, err)
	return z
}

func exchangeFromNet(t testing.TB, netw, src, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(src)}
	if netw == "tcp" {
		local = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c := &mdns.Client{Net: netw, Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: local}}
	r, _, err := c.Exchange(new(mdns.Msg).SetQuestion(name, qtype), addr)
	require.NoError(t, err)
	return r
}

func TestHostOverridesByView(t *testing.T) {
	up := fakeUpstream(t)
	viewOf := func(ip netip.Addr) string {
		switch ip {
		case netip.MustParseAddr("127.0.0.1"):
			return "default"
		case netip.MustParseAddr("127.0.0.2"):
			return "team-b"
		case netip.MustParseAddr("127.0.0.4"):
			return "plain" // a known view without overrides
		}
		return ""
	}
	// The default view has overrides, yet a client only falling back to it must not get them.
	_, addr := startServer(t, Options{ViewOf: viewOf, DefaultView: "default", Upstreams: []string{up}}, overrideZone(t))
	for _, netw := range []string{"udp", "tcp"} {
		t.Run(netw, func(t *testing.T) {
			r := exchangeFromNet(t, netw, "127.0.0.1", addr, "httpbin.org.", mdns.TypeA)
			assert.Equal(t, mdns.RcodeSuccess, r.Rcode)
			assert.True(t, r.Authoritative)
			assert.True(t, r.RecursionAvailable, "forwarding is on")
			assert.Equal(t, []string{"240.0.0.11"}, answerIPs(r))
			assert.Equal(t, uint32(30), r.Answer[0].Header().Ttl)

			// The client's spelling is echoed.
			r = exchangeFromNet(t, netw, "127.0.0.1", addr, "HttpBin.ORG.", mdns.TypeA)
			assert.Equal(t, []string{"240.0.0.11"}, answerIPs(r))
			assert.Equal(t, "HttpBin.ORG.", r.Question[0].Name)
			assert.Equal(t, "HttpBin.ORG.", r.Answer[0].Header().Name)

			// Each view its own VIP.
			r = exchangeFromNet(t, netw, "127.0.0.2", addr, "httpbin.org.", mdns.TypeA)
			assert.True(t, r.Authoritative)
			assert.Equal(t, []string{"240.0.0.21"}, answerIPs(r))

			// Other types of an overridden name: NOERROR, empty, no SOA of the origin.
			for _, qtype := range []uint16{mdns.TypeAAAA, mdns.TypeMX, mdns.TypeSOA} {
				r = exchangeFromNet(t, netw, "127.0.0.1", addr, "httpbin.org.", qtype)
				assert.Equal(t, mdns.RcodeSuccess, r.Rcode, mdns.TypeToString[qtype])
				assert.True(t, r.Authoritative, mdns.TypeToString[qtype])
				assert.Empty(t, r.Answer, mdns.TypeToString[qtype])
				assert.Empty(t, r.Ns, mdns.TypeToString[qtype])
				assert.Equal(t, qtype, r.Question[0].Qtype)
			}
			r = exchangeFromNet(t, netw, "127.0.0.1", addr, "v6.example.com.", mdns.TypeAAAA)
			assert.Equal(t, []string{"fd00::11"}, answerIPs(r))
			r = exchangeFromNet(t, netw, "127.0.0.1", addr, "v6.example.com.", mdns.TypeA)
			assert.Equal(t, mdns.RcodeSuccess, r.Rcode)
			assert.Empty(t, r.Answer)

			// A view without the override, and an unknown client (default view by fallback),
			// are forwarded like any name outside the origin.
			for _, src := range []string{"127.0.0.4", "127.0.0.3"} {
				r = exchangeFromNet(t, netw, src, addr, "httpbin.org.", mdns.TypeA)
				assert.False(t, r.Authoritative, src)
				assert.Equal(t, []string{"192.0.2.7"}, answerIPs(r), src)
			}
			// Overrides are per view: team-b has none for v6.example.com.
			r = exchangeFromNet(t, netw, "127.0.0.2", addr, "v6.example.com.", mdns.TypeA)
			assert.Equal(t, []string{"192.0.2.7"}, answerIPs(r))

			// Names around an override are not overridden.
			for _, name := range []string{"org.", "www.httpbin.org.", "example.com."} {
				r = exchangeFromNet(t, netw, "127.0.0.1", addr, name, mdns.TypeA)
				assert.False(t, r.Authoritative, name)
				assert.Equal(t, []string{"192.0.2.7"}, answerIPs(r), name)
			}

			// In-origin names are unaffected, for known and unknown clients.
			assert.Equal(t, []string{"240.0.0.10"}, answerIPs(exchangeFromNet(t, netw, "127.0.0.1", addr, "backend.mesh.", mdns.TypeA)))
			assert.Equal(t, []string{"240.0.0.10"}, answerIPs(exchangeFromNet(t, netw, "127.0.0.3", addr, "backend.mesh.", mdns.TypeA)))
		})
	}
}

// Without upstreams, names outside the origin are REFUSED, overrides are still answered.
func TestHostOverridesWithoutForwarding(t *testing.T) {
	viewOf := func(ip netip.Addr) string {
		if ip == netip.MustParseAddr("127.0.0.1") {
			return "default"
		}
		return ""
	}
	_, addr := startServer(t, Options{ViewOf: viewOf, DefaultView: "default"}, overrideZone(t))
	r := exchangeFromNet(t, "udp", "127.0.0.1", addr, "httpbin.org.", mdns.TypeA)
	assert.Equal(t, []string{"240.0.0.11"}, answerIPs(r))
	assert.False(t, r.RecursionAvailable)
	assert.Equal(t, mdns.RcodeRefused, exchangeFromNet(t, "udp", "127.0.0.3", addr, "httpbin.org.", mdns.TypeA).Rcode)
	assert.Equal(t, mdns.RcodeRefused, exchangeFromNet(t, "udp", "127.0.0.1", addr, "example.org.", mdns.TypeA).Rcode)
}

func TestHostOverridesValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs []Record
		err  string
	}{
		{"inside origin", []Record{{Name: "a.mesh"}}, "not outside the origin"},
		{"origin", []Record{{Name: "mesh."}}, "not outside the origin"},
		{"root", []Record{{Name: "."}}, "not a valid domain name"},
		{"escape", []Record{{Name: `a\.b.org`}}, "not a valid domain name"},
		{"v6 in A", []Record{{Name: "a.org", A: mustAddrs(t, "fd00::1")}}, "not IPv4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewZone(ZoneConfig{Overrides: map[string][]Record{"v": tc.recs}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// The UDP fast path serves overrides without allocating, like zone names.
func TestHostOverrideFastPath(t *testing.T) {
	s, err := New(Options{Address: "127.0.0.1:0", Logger: discardLogger(),
		ViewOf: func(netip.Addr) string { return "team-b" }})
	require.NoError(t, err)
	s.SetZone(overrideZone(t))
	wire, err := new(mdns.Msg).SetQuestion("httpbin.org.", mdns.TypeA).Pack()
	require.NoError(t, err)
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	out := make([]byte, 0, 4096)
	resp, ok := s.answerUDP(wire, from, out)
	require.True(t, ok)
	m := new(mdns.Msg)
	require.NoError(t, m.Unpack(resp))
	assert.Equal(t, []string{"240.0.0.21"}, answerIPs(m))
	allocs := testing.AllocsPerRun(100, func() { _, _ = s.answerUDP(wire, from, out[:0]) })
	assert.Zero(t, allocs)
}
