package connlimit

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// server accepts on a limited loopback listener and keeps every admitted connection; admitted
// reports each one's client IP.
func server(t *testing.T, opts Options) (*Listener, chan string) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := Wrap(raw, opts)
	admitted := make(chan string, 100)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			admitted <- host
			// Hold it open; closing on EOF gives the slot back.
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	return l, admitted
}

// dial connects from the loopback source address src.
func dial(t *testing.T, l net.Listener, src string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closed c within a second.
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || (err != nil && !isTimeout(err))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func waitOpen(t *testing.T, l *Listener, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return l.Open() == n }, 2*time.Second, 5*time.Millisecond, "want %d open, have %d", n, l.Open())
}

func TestPerAddressLimit(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	l, admitted := server(t, Options{Name: "t", PerAddress: 3, Metrics: m})
	var held []net.Conn
	for range 3 {
		held = append(held, dial(t, l, "127.0.0.2"))
		require.Equal(t, "127.0.0.2", <-admitted)
	}
	over := dial(t, l, "127.0.0.2")
	require.True(t, closedByServer(over), "a fourth connection from one address must be closed")
	// Another address is unaffected.
	dial(t, l, "127.0.0.3")
	require.Equal(t, "127.0.0.3", <-admitted)
	waitOpen(t, l, 4)
	require.Equal(t, 1.0, testutil.ToFloat64(m.refused.WithLabelValues("t", "per_address")))

	// A closed connection gives its slot back.
	require.NoError(t, held[0].Close())
	waitOpen(t, l, 3)
	dial(t, l, "127.0.0.2")
	require.Equal(t, "127.0.0.2", <-admitted)
}

func TestTotalLimitDisplacesTheMostLoadedAddress(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	l, admitted := server(t, Options{Name: "t", Max: 4, Metrics: m})
	var attacker []net.Conn
	for range 4 {
		attacker = append(attacker, dial(t, l, "127.0.0.2"))
		<-admitted
	}
	waitOpen(t, l, 4)
	// A newcomer is admitted, and the attacker's oldest connection pays for it.
	dial(t, l, "127.0.0.1")
	require.Equal(t, "127.0.0.1", <-admitted)
	require.True(t, closedByServer(attacker[0]), "the most loaded address's oldest connection is closed")
	require.False(t, closedByServer(attacker[3]), "its newer ones stay")
	waitOpen(t, l, 4)
	require.Equal(t, 1.0, testutil.ToFloat64(m.refused.WithLabelValues("t", "displaced")))

	// Two addresses with two connections each: a third connection from one of them is refused
	// rather than evicting its equal.
	l2, admitted2 := server(t, Options{Name: "t2", Max: 4, Metrics: m})
	for _, src := range []string{"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"} {
		dial(t, l2, src)
		<-admitted2
	}
	waitOpen(t, l2, 4)
	require.True(t, closedByServer(dial(t, l2, "127.0.0.3")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.refused.WithLabelValues("t2", "total")))
}
