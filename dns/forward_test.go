package dns

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeUpstream answers every A query with 192.0.2.7 on UDP and TCP.
func fakeUpstream(t *testing.T) string {
	t.Helper()
	return upstreamServing(t, mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		m.RecursionAvailable = true
		m.Answer = []mdns.RR{&mdns.A{
			Hdr: mdns.RR_Header{Name: req.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
			A:   net.IPv4(192, 0, 2, 7),
		}}
		_ = w.WriteMsg(m)
	}))
}

// upstreamServing runs h on UDP and TCP on one loopback port until the test ends.
func upstreamServing(t *testing.T, h mdns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	require.NoError(t, err)
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// deadUpstream is a loopback address where nothing answers.
func deadUpstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	return addr
}

func TestForwardsOutsideOrigin(t *testing.T) {
	up := fakeUpstream(t)
	// The dead upstream first: the server must move on to the next one.
	_, addr := startServer(t, Options{Upstreams: []string{deadUpstream(t), up}, ForwardTimeout: 300 * time.Millisecond}, testZone(t))
	for _, netw := range []string{"udp", "tcp"} {
		r := exchange(t, netw, addr, "www.example.com.", mdns.TypeA)
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, netw)
		assert.False(t, r.Authoritative, netw)
		assert.Equal(t, []string{"192.0.2.7"}, answerIPs(r), netw)
	}
	// The origin is never forwarded.
	r := exchange(t, "udp", addr, "nope.mesh.", mdns.TypeA)
	assert.Equal(t, mdns.RcodeNameError, r.Rcode)
	assert.True(t, r.RecursionAvailable)
}

func TestRefusedWhenForwardingOff(t *testing.T) {
	_, addr := startServer(t, Options{}, testZone(t))
	for _, netw := range []string{"udp", "tcp"} {
		assert.Equal(t, mdns.RcodeRefused, exchange(t, netw, addr, "www.example.com.", mdns.TypeA).Rcode, netw)
	}
}

func TestServfailWhenUpstreamsDead(t *testing.T) {
	_, addr := startServer(t, Options{Upstreams: []string{deadUpstream(t)}, ForwardTimeout: 200 * time.Millisecond}, testZone(t))
	for _, netw := range []string{"udp", "tcp"} {
		assert.Equal(t, mdns.RcodeServerFailure, exchange(t, netw, addr, "www.example.com.", mdns.TypeA).Rcode, netw)
	}
}

func TestUpstreamsFromResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(p, []byte("search example.com\nnameserver 10.0.0.1\nnameserver fd00::53\n"), 0o600))
	ups, err := UpstreamsFromResolvConf(p)
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.1:53", "[fd00::53]:53"}, ups)

	require.NoError(t, os.WriteFile(p, []byte("search example.com\n"), 0o600))
	_, err = UpstreamsFromResolvConf(p)
	assert.ErrorContains(t, err, "no nameserver")
	_, err = UpstreamsFromResolvConf(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}

func TestNewRejectsBadUpstream(t *testing.T) {
	_, err := New(Options{Upstreams: []string{"not an address"}})
	assert.ErrorContains(t, err, "upstream")
	s, err := New(Options{Upstreams: []string{"10.0.0.1"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.1:53"}, s.upstreams)
}
