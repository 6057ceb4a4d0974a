package dns

import (
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzServeDNS feeds raw messages to the handler: it must never panic, and
// whatever it writes must be a valid DNS message.
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
	seed("a\\.b.mesh.", mdns.TypeA, false)
	f.Add([]byte{0, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0})

	s, err := New(Options{Address: "127.0.0.1:0", DefaultView: "default", Logger: discardLogger()})
	if err != nil {
		f.Fatal(err)
	}
	s.SetZone(testZone(f))
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, fastOK := s.answerUDP(data, from, nil)
		req := new(mdns.Msg)
		if err := req.Unpack(data); err != nil {
			if fastOK {
				t.Fatalf("fast path answered a message miekg cannot unpack")
			}
			return // the UDP loop answers FORMERR before calling the handler
		}
		for _, tcp := range []bool{false, true} {
			w := newFakeWriter(tcp)
			s.ServeDNS(w, req)
			if len(w.out) == 0 {
				continue
			}
			var resp mdns.Msg
			if err := resp.Unpack(w.out); err != nil {
				t.Fatalf("reply does not unpack: %v\nquery: %v", err, req)
			}
			if !tcp && len(w.out) > max(512, edns(req)) {
				t.Fatalf("UDP reply of %d bytes exceeds the client's size", len(w.out))
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
	})
}

func edns(m *mdns.Msg) int {
	if o := m.IsEdns0(); o != nil {
		return int(o.UDPSize())
	}
	return 0
}
