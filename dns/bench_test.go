package dns

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// BenchmarkServeA measures answering an A query without a socket: "wire" is
// the UDP fast path (raw bytes in, patched precomputed reply out), "msg" the
// miekg Handler path that TCP and unusual queries take.
func BenchmarkServeA(b *testing.B) {
	s, err := New(Options{Address: "127.0.0.1:0", Logger: discardLogger()})
	require.NoError(b, err)
	s.SetZone(testZone(b))
	req := new(mdns.Msg).SetQuestion("internal.edge.default.mesh.", mdns.TypeA)
	req.SetEdns0(1232, false)
	wire, err := req.Pack()
	require.NoError(b, err)

	b.Run("wire", func(b *testing.B) {
		from := netip.MustParseAddrPort("127.0.0.1:5000")
		out := make([]byte, 0, 4096)
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if _, ok := s.answerUDP(wire, from, out[:0]); !ok {
				b.Fatal("fast path refused a plain A query")
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "qps")
	})
	b.Run("msg", func(b *testing.B) {
		w := newFakeWriter(false)
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			s.ServeDNS(w, req)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "qps")
		if len(w.out) == 0 {
			b.Fatal("no answer")
		}
	})
}

// BenchmarkUDPQueries measures the whole server over loopback UDP with one
// connected client socket per goroutine, SO_REUSEPORT sockets on.
func BenchmarkUDPQueries(b *testing.B) {
	_, addr := startServer(b, Options{SocketsPerCore: true, DefaultView: "default"}, testZone(b))
	q := new(mdns.Msg).SetQuestion("backend.mesh.", mdns.TypeA)
	q.SetEdns0(1232, false)
	wire, err := q.Pack()
	require.NoError(b, err)
	var failures atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			failures.Add(1)
			return
		}
		defer conn.Close()
		buf := make([]byte, 1500)
		for pb.Next() {
			_ = conn.SetDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write(wire); err != nil {
				failures.Add(1)
				continue
			}
			if n, err := conn.Read(buf); err != nil || n < 12 {
				failures.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "qps")
	b.ReportMetric(float64(failures.Load()), "lost")
}
