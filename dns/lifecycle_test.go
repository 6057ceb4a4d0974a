package dns

import (
	"context"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeStopsWithContext(t *testing.T) {
	s, err := New(Options{Address: "127.0.0.1:0", SocketsPerCore: true, Logger: discardLogger()})
	require.NoError(t, err)
	s.SetZone(testZone(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	require.Eventually(t, func() bool { u, _ := s.Addr(); return u != "" }, 5*time.Second, 10*time.Millisecond)
	udp, _ := s.Addr()
	assert.Equal(t, []string{"240.0.0.2"}, answerIPs(exchange(t, "udp", udp, "api.example.mesh.", mdns.TypeA)))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	s.Close() // idempotent
	assert.ErrorContains(t, s.Start(context.Background()), "already started")

	// The port is free again: nothing kept a socket.
	pc, err := net.ListenPacket("udp", udp)
	require.NoError(t, err)
	require.NoError(t, pc.Close())
}

func TestMalformedUDPGetsFormerr(t *testing.T) {
	_, addr := startServer(t, Options{}, testZone(t))
	conn, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer conn.Close()
	// A query header claiming one question, followed by a truncated name.
	_, err = conn.Write([]byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(3*time.Second)))
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	require.NoError(t, err)
	var m mdns.Msg
	require.NoError(t, m.Unpack(buf[:n]))
	assert.Equal(t, uint16(0xabcd), m.Id)
	assert.Equal(t, mdns.RcodeFormatError, m.Rcode)
}
