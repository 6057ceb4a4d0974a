package dns

import (
	"hash/fnv"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// Fuzzed clients: the first may use forwarding, the second (an attacker on the
// same network) may not.
var (
	fuzzAllowed = netip.MustParseAddr("127.0.0.1")
	fuzzRefused = netip.MustParseAddr("127.0.0.2")
)

// FuzzServeDNS feeds raw messages to the handler of a server that forwards to
// a real upstream on loopback (fuzzUpstream) and allows forwarding only for
// 127.0.0.1. For each message, from both clients, over UDP and TCP:
//   - it never panics;
//   - every query (anything but a response) gets exactly one reply, and that
//     reply packs, unpacks, carries the query's ID and is a response;
//   - a UDP reply fits the client's buffer (512 bytes or its EDNS size),
//     forwarded ones included;
//   - the refused client never causes a query upstream, never sees RA, and
//     never gets more bytes back than it sent plus an OPT record (no open
//     resolver, no amplification);
//   - the UDP fast path says exactly what the full handler says.
func FuzzServeDNS(f *testing.F) {
	seed := func(name string, qtype uint16, edns bool) {
		m := new(mdns.Msg).SetQuestion(name, qtype)
		if edns {
			m.SetEdns0(1232, true)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed("internal.edge.default.mesh.", mdns.TypeA, false)
	seed("INTERNAL.edge.default.mesh.", mdns.TypeAAAA, true)
	seed("backend.mesh.", mdns.TypeTXT, true)
	seed("nope.mesh.", mdns.TypeA, false)
	seed("mesh.", mdns.TypeSOA, false)
	seed("example.com.", mdns.TypeA, false)
	seed("example.com.", mdns.TypeTXT, true)
	seed("big-answer.example.org.", mdns.TypeTXT, false)
	seed("big-answer.example.org.", mdns.TypeA, true)
	seed("servfail.example.net.", mdns.TypeMX, false)
	seed("a\\.b.mesh.", mdns.TypeA, false)
	seed("a\\.b.example.", mdns.TypeA, false)
	seed(".", mdns.TypeNS, false)
	seed("example.com.", mdns.TypeAXFR, false)
	f.Add([]byte{0, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0})

	up, queries := fuzzUpstream(f)
	s, err := New(Options{
		Address: "127.0.0.1:0", DefaultView: "default", Logger: discardLogger(),
		Upstreams: []string{up}, ForwardTimeout: time.Second,
		ForwardAllow: []netip.Prefix{netip.PrefixFrom(fuzzAllowed, 32)},
	})
	require.NoError(f, err)
	s.SetZone(testZone(f))

	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(mdns.Msg)
		unpacked := req.Unpack(data) == nil
		for _, client := range []netip.Addr{fuzzAllowed, fuzzRefused} {
			from := netip.AddrPortFrom(client, 5000)
			fast, fastOK := s.answerUDP(data, from, nil)
			if !unpacked {
				if fastOK {
					t.Fatalf("fast path answered a message miekg cannot unpack")
				}
				continue // the UDP loop answers FORMERR before calling the handler
			}
			for _, tcp := range []bool{false, true} {
				w := newFuzzWriter(from, tcp)
				before := queries.Load()
				s.ServeDNS(w, req)
				sentUpstream := queries.Load() != before
				if w.packErr != nil {
					t.Fatalf("reply does not pack: %v\nquery: %v", w.packErr, req)
				}
				if w.writes > 1 {
					t.Fatalf("%d replies to one query", w.writes)
				}
				if req.Response {
					if w.writes != 0 {
						t.Fatalf("answered a response")
					}
					continue
				}
				if w.writes == 0 {
					t.Fatalf("no reply (client %v, tcp %v) to %v", client, tcp, req)
				}
				var resp mdns.Msg
				if err := resp.Unpack(w.out); err != nil {
					t.Fatalf("reply does not unpack: %v\nquery: %v", err, req)
				}
				if resp.Id != req.Id || !resp.Response {
					t.Fatalf("reply id %d response %v to query %d", resp.Id, resp.Response, req.Id)
				}
				if !tcp && len(w.out) > max(512, edns(req)) {
					t.Fatalf("UDP reply of %d bytes exceeds the client's size (forwarded: %v)", len(w.out), sentUpstream)
				}
				if client == fuzzRefused {
					if sentUpstream {
						t.Fatalf("forwarded for a client outside the allow list: %v", req)
					}
					if resp.RecursionAvailable {
						t.Fatalf("RA set for a client that may not use forwarding")
					}
					if !tcp && len(w.out) > max(len(data), 12)+11 && !mdns.IsSubDomain(s.Zone().Origin(), lowerASCII(req.Question[0].Name)) {
						t.Fatalf("refused client got %d bytes for a %d-byte query outside the zone", len(w.out), len(data))
					}
				}
				// The fast path must say exactly what the full handler says.
				if !tcp && fastOK {
					var fr mdns.Msg
					if err := fr.Unpack(fast); err != nil {
						t.Fatalf("fast reply does not unpack: %v", err)
					}
					if fr.String() != resp.String() {
						t.Fatalf("fast path differs:\n%v\nhandler:\n%v", &fr, &resp)
					}
				}
			}
		}
	})
}

func edns(m *mdns.Msg) int {
	if o := m.IsEdns0(); o != nil {
		return int(o.UDPSize())
	}
	return 0
}

// fuzzUpstream is a resolver on loopback (UDP and TCP on one port) whose
// answers vary with the query name: NXDOMAIN, SERVFAIL, or up to 120 records,
// so that forwarded answers range from tiny to far beyond 512 bytes. Over UDP
// it truncates to the query's buffer for some names, as a careful resolver
// does, and sends everything for others, as careless ones do. It counts the
// queries it gets.
func fuzzUpstream(f *testing.F) (string, *atomic.Int64) {
	var queries atomic.Int64
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		queries.Add(1)
		m := new(mdns.Msg)
		if len(req.Question) != 1 {
			_ = w.WriteMsg(m.SetRcode(req, mdns.RcodeFormatError))
			return
		}
		m.SetReply(req)
		m.RecursionAvailable = true
		q := req.Question[0]
		h := fnv.New32a()
		_, _ = h.Write([]byte(strings.ToLower(q.Name)))
		sum := h.Sum32()
		hdr := mdns.RR_Header{Name: q.Name, Class: mdns.ClassINET, Ttl: 60}
		switch {
		case strings.HasPrefix(strings.ToLower(q.Name), "servfail."):
			m.Rcode = mdns.RcodeServerFailure
		case strings.HasPrefix(strings.ToLower(q.Name), "big-answer."), sum%8 > 1:
			n := int(sum>>8) % 120
			if strings.HasPrefix(strings.ToLower(q.Name), "big-answer.") {
				n = 120
			}
			for i := range n {
				if q.Qtype == mdns.TypeTXT {
					hdr.Rrtype = mdns.TypeTXT
					m.Answer = append(m.Answer, &mdns.TXT{Hdr: hdr, Txt: []string{strings.Repeat("x", 100+i)}})
				} else {
					hdr.Rrtype = mdns.TypeA
					m.Answer = append(m.Answer, &mdns.A{Hdr: hdr, A: net.IPv4(192, 0, 2, byte(i))})
				}
			}
		default:
			m.Rcode = mdns.RcodeNameError
			m.Ns = []mdns.RR{&mdns.SOA{Hdr: mdns.RR_Header{Name: ".", Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: 60},
				Ns: "a.root-servers.net.", Mbox: "nstld.verisign-grs.com.", Serial: 1, Refresh: 1800, Retry: 900, Expire: 604800, Minttl: 86400}}
		}
		if o := req.IsEdns0(); o != nil {
			m.SetEdns0(4096, false)
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp && sum&0x10 != 0 {
			m.Truncate(max(512, edns(req)))
		}
		_ = w.WriteMsg(m)
	})
	// Every message reaches the handler, so the stub answers whatever the
	// server forwards rather than leaving it to time out.
	accept := func(mdns.Header) mdns.MsgAcceptAction { return mdns.MsgAccept }
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(f, err)
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	require.NoError(f, err)
	for _, srv := range []*mdns.Server{
		{PacketConn: pc, Handler: h, MsgAcceptFunc: accept},
		{Listener: lingerListener{ln}, Handler: h, MsgAcceptFunc: accept},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		f.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String(), &queries
}

// lingerListener resets its connections on close instead of leaving them in
// TIME_WAIT: the fuzzer forwards thousands of TCP queries a second, and the
// loopback ports they would hold for a minute are shared with every other
// test on the machine.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	return c, err
}

// fuzzWriter is a ResponseWriter without a socket that records every reply,
// and a message that fails to pack (which a real writer would silently not
// send, leaving the client to time out).
type fuzzWriter struct {
	remote, local net.Addr
	out           []byte
	writes        int
	packErr       error
}

func newFuzzWriter(from netip.AddrPort, tcp bool) *fuzzWriter {
	if tcp {
		return &fuzzWriter{remote: net.TCPAddrFromAddrPort(from), local: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5653}}
	}
	return &fuzzWriter{remote: net.UDPAddrFromAddrPort(from), local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5653}}
}

func (w *fuzzWriter) LocalAddr() net.Addr  { return w.local }
func (w *fuzzWriter) RemoteAddr() net.Addr { return w.remote }
func (w *fuzzWriter) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		w.packErr = err
		return err
	}
	_, err = w.Write(b)
	return err
}
func (w *fuzzWriter) Write(b []byte) (int, error) {
	w.out = append([]byte(nil), b...)
	w.writes++
	return len(b), nil
}
func (w *fuzzWriter) Close() error        { return nil }
func (w *fuzzWriter) TsigStatus() error   { return nil }
func (w *fuzzWriter) TsigTimersOnly(bool) {}
func (w *fuzzWriter) Hijack()             {}
