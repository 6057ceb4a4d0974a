package dns

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func mustAddrs(t testing.TB, ss ...string) []netip.Addr {
	t.Helper()
	out := make([]netip.Addr, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// testZone: a global cross-mesh name, and "backend.mesh" in two views.
func testZone(t testing.TB) *Zone {
	t.Helper()
	z, err := NewZone(ZoneConfig{
		Global: []Record{
			{Name: "internal.edge.default.mesh", A: mustAddrs(t, "240.0.0.1"), AAAA: mustAddrs(t, "fd00::1")},
			{Name: "api.example.mesh.", A: mustAddrs(t, "240.0.0.2")},
		},
		Views: map[string][]Record{
			"default": {{Name: "backend.mesh", A: mustAddrs(t, "240.0.0.10")}},
			"team-b":  {{Name: "backend.mesh", A: mustAddrs(t, "240.0.0.20")}},
		},
	})
	require.NoError(t, err)
	return z
}

// startServer runs a server on loopback until the test ends.
func startServer(t testing.TB, opts Options, z *Zone) (*Server, string) {
	t.Helper()
	if opts.Address == "" {
		opts.Address = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	s, err := New(opts)
	require.NoError(t, err)
	s.SetZone(z)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { cancel(); s.Close() })
	udp, tcp := s.Addr()
	require.Equal(t, udp, tcp, "UDP and TCP share one address")
	return s, udp
}

func exchange(t testing.TB, netw, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: netw, Timeout: 3 * time.Second}
	m := new(mdns.Msg).SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, addr)
	require.NoError(t, err)
	return r
}

// exchangeFrom sends a UDP query from a given loopback source address.
func exchangeFrom(t testing.TB, src, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: "udp", Timeout: 3 * time.Second,
		Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}}}
	r, _, err := c.Exchange(new(mdns.Msg).SetQuestion(name, qtype), addr)
	require.NoError(t, err)
	return r
}

func answerIPs(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *mdns.A:
			out = append(out, rr.A.String())
		case *mdns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}

// fakeWriter is a ResponseWriter without a socket, for the handler
// benchmark and the fuzz target.
type fakeWriter struct {
	remote net.Addr
	local  net.Addr
	out    []byte
}

func newFakeWriter(tcp bool) *fakeWriter {
	if tcp {
		return &fakeWriter{remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, local: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5653}}
	}
	return &fakeWriter{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5653}}
}

func (f *fakeWriter) LocalAddr() net.Addr  { return f.local }
func (f *fakeWriter) RemoteAddr() net.Addr { return f.remote }
func (f *fakeWriter) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	f.out = b
	return err
}
func (f *fakeWriter) Write(b []byte) (int, error) { f.out = b; return len(b), nil }
func (f *fakeWriter) Close() error                { return nil }
func (f *fakeWriter) TsigStatus() error           { return nil }
func (f *fakeWriter) TsigTimersOnly(bool)         {}
func (f *fakeWriter) Hijack()                     {}
