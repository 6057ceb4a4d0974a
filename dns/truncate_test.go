package dns

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTruncationFallsBackToTCP(t *testing.T) {
	var many []netip.Addr
	for i := range 100 {
		many = append(many, netip.MustParseAddr(fmt.Sprintf("240.0.1.%d", i)))
	}
	z, err := NewZone(ZoneConfig{Global: []Record{{Name: "big.mesh", A: many}}})
	require.NoError(t, err)
	_, addr := startServer(t, Options{}, z)

	r := exchange(t, "udp", addr, "big.mesh.", mdns.TypeA)
	assert.True(t, r.Truncated, "100 A records do not fit 512 bytes")
	assert.Less(t, len(r.Answer), 100)

	// An EDNS client with a big buffer gets everything over UDP.
	c := &mdns.Client{Net: "udp", UDPSize: 4096, Timeout: 3 * time.Second}
	m := new(mdns.Msg).SetQuestion("big.mesh.", mdns.TypeA)
	m.SetEdns0(4096, false)
	r, _, err = c.Exchange(m, addr)
	require.NoError(t, err)
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, 100)

	r = exchange(t, "tcp", addr, "big.mesh.", mdns.TypeA)
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, 100)
}

// bigAnswers is how many A records bigUpstream answers with: about 1.6 KB, more than 512
// bytes and more than the 1232-byte EDNS size of today's resolvers.
const bigAnswers = 100

// bigUpstream answers A queries with bigAnswers records and TXT queries with 8 strings of
// 250 bytes, whatever the client's buffer: it never truncates, as some upstreams do not.
func bigUpstream(t *testing.T) string {
	t.Helper()
	return upstreamServing(t, mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		m.RecursionAvailable = true
		q := req.Question[0]
		hdr := mdns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: mdns.ClassINET, Ttl: 60}
		switch q.Qtype {
		case mdns.TypeA:
			for i := range bigAnswers {
				m.Answer = append(m.Answer, &mdns.A{Hdr: hdr, A: net.IPv4(192, 0, 2, byte(i))})
			}
		case mdns.TypeTXT:
			for i := range 8 {
				m.Answer = append(m.Answer, &mdns.TXT{Hdr: hdr, Txt: []string{strings.Repeat(string(rune('a'+i)), 250)}})
			}
		}
		if req.IsEdns0() != nil {
			m.SetEdns0(4096, false) // its own size, as resolvers answer
		}
		_ = w.WriteMsg(m)
	}))
}

// rawUDP sends m from src and returns the reply datagram as it arrived, read into a buffer
// of any size, so its real length can be checked.
func rawUDP(t *testing.T, src, addr string, m *mdns.Msg) []byte {
	t.Helper()
	q, err := m.Pack()
	require.NoError(t, err)
	raddr, err := net.ResolveUDPAddr("udp", addr)
	require.NoError(t, err)
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, raddr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(3*time.Second)))
	_, err = conn.Write(q)
	require.NoError(t, err)
	buf := make([]byte, mdns.MaxMsgSize)
	n, err := conn.Read(buf)
	require.NoError(t, err)
	return buf[:n]
}

// A forwarded answer larger than the client's UDP buffer arrives truncated with TC, never
// SERVFAIL, so the client retries over TCP, where it gets all of it.
func TestForwardedAnswerTruncated(t *testing.T) {
	_, addr := startServer(t, Options{Upstreams: []string{bigUpstream(t)}, ForwardTimeout: time.Second}, testZone(t))
	for _, tc := range []struct {
		qtype uint16
		edns  uint16 // 0: no OPT, the 512-byte limit
	}{
		{mdns.TypeA, 0}, {mdns.TypeA, 1232}, {mdns.TypeTXT, 0}, {mdns.TypeTXT, 1232},
	} {
		name := fmt.Sprintf("%s/edns=%d", mdns.TypeToString[tc.qtype], tc.edns)
		m := new(mdns.Msg).SetQuestion("big.example.com.", tc.qtype)
		limit := mdns.MinMsgSize
		if tc.edns > 0 {
			m.SetEdns0(tc.edns, false)
			limit = int(tc.edns)
		}
		wire := rawUDP(t, "127.0.0.1", addr, m)
		assert.LessOrEqual(t, len(wire), limit, name)
		var r mdns.Msg
		require.NoError(t, r.Unpack(wire), name)
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, "%s: %s", name, r.String())
		assert.True(t, r.Truncated, name)
		assert.NotEmpty(t, r.Answer, "%s: what fits is kept", name)
		assert.Equal(t, m.Id, r.Id, name)
		assert.Equal(t, tc.edns > 0, r.IsEdns0() != nil, "%s: OPT kept for EDNS clients only", name)

		c := &mdns.Client{Net: "tcp", Timeout: 3 * time.Second}
		full, _, err := c.Exchange(m, addr)
		require.NoError(t, err, name)
		assert.Equal(t, mdns.RcodeSuccess, full.Rcode, name)
		assert.False(t, full.Truncated, name)
		assert.Greater(t, len(full.Answer), len(r.Answer), name)
		if tc.qtype == mdns.TypeA {
			assert.Len(t, full.Answer, bigAnswers, name)
		} else {
			assert.Len(t, full.Answer, 8, name)
		}
	}

	// A client whose buffer holds the whole answer gets all of it over UDP.
	m := new(mdns.Msg).SetQuestion("big.example.com.", mdns.TypeA)
	m.SetEdns0(4096, false)
	var r mdns.Msg
	require.NoError(t, r.Unpack(rawUDP(t, "127.0.0.1", addr, m)))
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, bigAnswers)
}
