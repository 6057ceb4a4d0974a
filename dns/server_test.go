package dns

import (
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthoritativeAnswers(t *testing.T) {
	_, addr := startServer(t, Options{DefaultView: "default"}, testZone(t))
	for _, netw := range []string{"udp", "tcp"} {
		t.Run(netw, func(t *testing.T) {
			r := exchange(t, netw, addr, "internal.edge.default.mesh.", mdns.TypeA)
			assert.Equal(t, mdns.RcodeSuccess, r.Rcode)
			assert.True(t, r.Authoritative)
			assert.False(t, r.RecursionAvailable, "forwarding is off")
			assert.Equal(t, []string{"240.0.0.1"}, answerIPs(r))
			assert.Equal(t, uint32(30), r.Answer[0].Header().Ttl)

			r = exchange(t, netw, addr, "internal.edge.default.mesh.", mdns.TypeAAAA)
			assert.Equal(t, []string{"fd00::1"}, answerIPs(r))

			r = exchange(t, netw, addr, "mesh.", mdns.TypeSOA)
			assert.Equal(t, mdns.RcodeSuccess, r.Rcode)
			require.Len(t, r.Answer, 1)
			soa, ok := r.Answer[0].(*mdns.SOA)
			require.True(t, ok)
			assert.Equal(t, "mesh.", soa.Hdr.Name)
			assert.Equal(t, uint32(30), soa.Minttl)
		})
	}
}

func TestNegativeAnswersCarrySOA(t *testing.T) {
	_, addr := startServer(t, Options{DefaultView: "default"}, testZone(t))
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"nope.mesh.", mdns.TypeA, mdns.RcodeNameError},
		{"a.b.nope.mesh.", mdns.TypeAAAA, mdns.RcodeNameError},
		{"api.example.mesh.", mdns.TypeAAAA, mdns.RcodeSuccess}, // NODATA: no v6
		{"api.example.mesh.", mdns.TypeTXT, mdns.RcodeSuccess},
		{"mesh.", mdns.TypeA, mdns.RcodeSuccess},
		{"default.mesh.", mdns.TypeA, mdns.RcodeSuccess}, // empty non-terminal
	} {
		t.Run(tc.name+mdns.TypeToString[tc.qtype], func(t *testing.T) {
			r := exchange(t, "udp", addr, tc.name, tc.qtype)
			assert.Equal(t, tc.rcode, r.Rcode)
			assert.True(t, r.Authoritative)
			assert.Empty(t, r.Answer)
			require.Len(t, r.Ns, 1)
			assert.Equal(t, mdns.TypeSOA, r.Ns[0].Header().Rrtype)
			require.Len(t, r.Question, 1)
			assert.Equal(t, tc.qtype, r.Question[0].Qtype)
		})
	}
}

func TestCaseInsensitiveAndEchoesSpelling(t *testing.T) {
	_, addr := startServer(t, Options{DefaultView: "default"}, testZone(t))
	r := exchange(t, "udp", addr, "InTeRnAl.EDGE.default.MESH.", mdns.TypeA)
	assert.Equal(t, []string{"240.0.0.1"}, answerIPs(r))
	assert.Equal(t, "InTeRnAl.EDGE.default.MESH.", r.Question[0].Name)
	assert.Equal(t, "InTeRnAl.EDGE.default.MESH.", r.Answer[0].Header().Name)

	r = exchange(t, "udp", addr, "NOPE.Mesh.", mdns.TypeA)
	assert.Equal(t, mdns.RcodeNameError, r.Rcode)
}

func TestViewsByClientAddress(t *testing.T) {
	viewOf := func(ip netip.Addr) string {
		if ip == netip.MustParseAddr("127.0.0.2") {
			return "team-b"
		}
		if ip == netip.MustParseAddr("127.0.0.1") {
			return "default"
		}
		return ""
	}
	_, addr := startServer(t, Options{ViewOf: viewOf, DefaultView: "default"}, testZone(t))

	assert.Equal(t, []string{"240.0.0.10"}, answerIPs(exchangeFrom(t, "127.0.0.1", addr, "backend.mesh.", mdns.TypeA)))
	assert.Equal(t, []string{"240.0.0.20"}, answerIPs(exchangeFrom(t, "127.0.0.2", addr, "backend.mesh.", mdns.TypeA)))
	// 127.0.0.3 is unknown to ViewOf and falls back to the default view.
	assert.Equal(t, []string{"240.0.0.10"}, answerIPs(exchangeFrom(t, "127.0.0.3", addr, "backend.mesh.", mdns.TypeA)))
	// Global names resolve in every view.
	assert.Equal(t, []string{"240.0.0.1"}, answerIPs(exchangeFrom(t, "127.0.0.2", addr, "internal.edge.default.mesh.", mdns.TypeA)))

	// A view without the name: NXDOMAIN.
	_, addr = startServer(t, Options{ViewOf: viewOf, DefaultView: "nobody"}, testZone(t))
	assert.Equal(t, mdns.RcodeNameError, exchangeFrom(t, "127.0.0.3", addr, "backend.mesh.", mdns.TypeA).Rcode)
}

func TestNoZoneIsServfail(t *testing.T) {
	_, addr := startServer(t, Options{}, nil)
	assert.Equal(t, mdns.RcodeServerFailure, exchange(t, "udp", addr, "a.mesh.", mdns.TypeA).Rcode)
}

func TestEDNSAndOddQueries(t *testing.T) {
	_, addr := startServer(t, Options{}, testZone(t))
	c := &mdns.Client{Net: "udp"}

	m := new(mdns.Msg).SetQuestion("api.example.mesh.", mdns.TypeA)
	m.SetEdns0(4096, false)
	r, _, err := c.Exchange(m, addr)
	require.NoError(t, err)
	require.NotNil(t, r.IsEdns0(), "EDNS query gets an OPT back")
	assert.Equal(t, uint16(ednsSize), r.IsEdns0().UDPSize())

	m = new(mdns.Msg).SetQuestion("api.example.mesh.", mdns.TypeA)
	m.SetEdns0(4096, false)
	m.IsEdns0().SetVersion(1)
	r, _, err = c.Exchange(m, addr)
	require.NoError(t, err)
	assert.Equal(t, mdns.RcodeBadVers, r.Rcode)

	m = new(mdns.Msg).SetQuestion("api.example.mesh.", mdns.TypeAXFR)
	r, _, err = c.Exchange(m, addr)
	require.NoError(t, err)
	assert.Equal(t, mdns.RcodeRefused, r.Rcode)

	m = new(mdns.Msg).SetQuestion("api.example.mesh.", mdns.TypeA)
	m.Question[0].Qclass = mdns.ClassCHAOS
	r, _, err = c.Exchange(m, addr)
	require.NoError(t, err)
	assert.Equal(t, mdns.RcodeRefused, r.Rcode)
}
