package test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/controlplane"
)

// hardeningAnswers is how many A records the big upstream answers with: about 1.6 KB, more
// than 512 bytes and more than the 1232-byte EDNS size resolvers use today.
const hardeningAnswers = 100

// hardeningDNSYAML: one dataplane at 127.0.0.3 (so that address is a known dataplane); its
// service `app` gives every client of the default mesh's view the name `app.mesh`.
const hardeningDNSYAML = `
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: app-1
networking: {address: 127.0.0.3, inbound: [{port: 80, tags: {kuma.io/service: app}}]}
`

// bigUpstreamDNS is an upstream resolver on loopback that answers every A query with
// hardeningAnswers records, whatever the client's buffer, over UDP and TCP.
func bigUpstreamDNS(t *testing.T) string {
	t.Helper()
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg).SetReply(req)
		m.RecursionAvailable = true
		q := req.Question[0]
		if q.Qtype == mdns.TypeA {
			for i := range hardeningAnswers {
				m.Answer = append(m.Answer, &mdns.A{
					Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
					A:   net.IPv4(192, 0, 2, byte(i)),
				})
			}
		}
		if req.IsEdns0() != nil {
			m.SetEdns0(4096, false)
		}
		_ = w.WriteMsg(m)
	})
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

// exchangeVia sends an A query for name from src over netw (udp or tcp).
func exchangeVia(t *testing.T, netw, src, server, name string) *mdns.Msg {
	t.Helper()
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(src)}
	if netw == "tcp" {
		local = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c := &mdns.Client{Net: netw, Timeout: 3 * time.Second, Dialer: &net.Dialer{LocalAddr: local}}
	r, _, err := c.Exchange(new(mdns.Msg).SetQuestion(mdns.Fqdn(name), mdns.TypeA), server)
	require.NoError(t, err, "%s %s from %s", netw, name, src)
	return r
}

// rawUDPReply sends m from src and returns the reply datagram as it arrived, read into a
// buffer of any size so that its real length can be checked.
func rawUDPReply(t *testing.T, src, server string, m *mdns.Msg) []byte {
	t.Helper()
	q, err := m.Pack()
	require.NoError(t, err)
	raddr, err := net.ResolveUDPAddr("udp", server)
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

// TestDNSHardening runs the whole control plane with forwarding on and an allow list of
// 127.0.0.1 only: a client at 127.0.0.2 is no open-resolver customer (REFUSED outside
// `.mesh`, `.mesh` still answered), the dataplane at 127.0.0.3 is forwarded although the list
// does not name it, and a forwarded answer too big for UDP arrives truncated with TC (never
// SERVFAIL) and whole over TCP. dig agrees.
func TestDNSHardening(t *testing.T) {
	up := bigUpstreamDNS(t)
	cp := startCP(t, t.TempDir(), func(cfg *controlplane.Config) {
		cfg.DNS.Forward = true
		cfg.DNS.Upstreams = []string{up}
		cfg.DNS.ForwardAllow = []string{"127.0.0.1/32"}
	})
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(hardeningDNSYAML))
	require.Equal(t, http.StatusOK, code, string(body))
	dnsAddr := cp.addrs.DNS
	// The model swap that publishes app.mesh also makes 127.0.0.3 a known dataplane.
	require.Eventually(t, func() bool {
		r, err := queryFrom(t, "127.0.0.2", dnsAddr, "app.mesh")
		return err == nil && r.Rcode == mdns.RcodeSuccess && len(r.Answer) == 1
	}, 5*time.Second, 50*time.Millisecond)

	for _, netw := range []string{"udp", "tcp"} {
		// Not allowed: REFUSED outside `.mesh`, with nothing to amplify.
		r := exchangeVia(t, netw, "127.0.0.2", dnsAddr, "example.com")
		assert.Equal(t, mdns.RcodeRefused, r.Rcode, "%s: %s", netw, r)
		assert.Empty(t, r.Answer, netw)
		assert.False(t, r.RecursionAvailable, netw)
		// ... and `.mesh` names as before.
		r = exchangeVia(t, netw, "127.0.0.2", dnsAddr, "app.mesh")
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, netw)
		assert.True(t, r.Authoritative, netw)
		assert.Len(t, r.Answer, 1, netw)

		// The known dataplane is allowed without being in the list.
		r = exchangeVia(t, netw, "127.0.0.3", dnsAddr, "example.com")
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, "%s: %s", netw, r)
		assert.NotEmpty(t, r.Answer, netw)
	}

	// Over UDP the allowed client gets what fits its buffer, with TC; over TCP all of it.
	for _, edns := range []uint16{0, 1232} {
		m := new(mdns.Msg).SetQuestion("example.com.", mdns.TypeA)
		limit := mdns.MinMsgSize
		if edns > 0 {
			m.SetEdns0(edns, false)
			limit = int(edns)
		}
		wire := rawUDPReply(t, "127.0.0.1", dnsAddr, m)
		assert.LessOrEqual(t, len(wire), limit, "edns %d", edns)
		var r mdns.Msg
		require.NoError(t, r.Unpack(wire))
		assert.Equal(t, mdns.RcodeSuccess, r.Rcode, "edns %d: %s", edns, r.String())
		assert.True(t, r.Truncated, "edns %d", edns)
		assert.NotEmpty(t, r.Answer, "edns %d", edns)
		assert.Less(t, len(r.Answer), hardeningAnswers, "edns %d", edns)
	}
	r := exchangeVia(t, "tcp", "127.0.0.1", dnsAddr, "example.com")
	assert.Equal(t, mdns.RcodeSuccess, r.Rcode)
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, hardeningAnswers)

	// The refusals are counted (one per transport above).
	resp, err := http.Get("http://" + cp.addrs.Diag + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metrics), `meshgate_dns_forward_refused_total{transport="udp"} 1`)
	assert.Contains(t, string(metrics), `meshgate_dns_forward_refused_total{transport="tcp"} 1`)

	t.Run("dig", func(t *testing.T) {
		dig, err := exec.LookPath("dig")
		if err != nil {
			t.Skip("dig not on PATH (the Debian package dnsutils; .ci/setup.sh installs it)")
		}
		host, port, err := net.SplitHostPort(dnsAddr)
		require.NoError(t, err)
		run := func(args ...string) string {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			args = append([]string{"@" + host, "-p", port, "+tries=1", "+time=3"}, args...)
			out, err := exec.CommandContext(ctx, dig, args...).CombinedOutput()
			require.NoError(t, err, "dig %v: %s", args, out)
			return string(out)
		}
		out := run("-b", "127.0.0.2", "example.com", "A")
		assert.Contains(t, out, "status: REFUSED", out)
		assert.NotContains(t, out, "ANSWER SECTION", out)
		out = run("-b", "127.0.0.2", "app.mesh", "A")
		assert.Contains(t, out, "status: NOERROR", out)
		assert.Regexp(t, `app\.mesh\.\s+30\s+IN\s+A\s+24\d\.`, out)

		// +ignore keeps dig from retrying over TCP, so the truncated UDP reply shows.
		out = run("-b", "127.0.0.1", "+noedns", "+ignore", "example.com", "A")
		assert.Contains(t, out, "status: NOERROR", out)
		assert.Regexp(t, `flags: qr[a-z ]* tc[ ;]`, out)
		// Without it dig retries over TCP, as any resolver does, and gets every record.
		out = run("-b", "127.0.0.1", "+noedns", "example.com", "A")
		assert.Contains(t, out, "status: NOERROR", out)
		assert.Equal(t, hardeningAnswers, strings.Count(out, "\tIN\tA\t192.0.2."), out)
	})
}

// TestDNSHardeningForwardAllowFlag: `meshgate run` takes --dns-forward-allow repeated and
// comma-separated, and refuses to start on an invalid CIDR with an error naming the flag.
func TestDNSHardeningForwardAllowFlag(t *testing.T) {
	bin := buildBinary(t)
	common := []string{"run", "--xds-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0",
		"--diag-address", "127.0.0.1:0", "--dns-address", "127.0.0.1:0", "--dns-upstream", "127.0.0.1:1"}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(append([]string{}, common...), "--data-dir", t.TempDir(), "--dns-forward-allow", "10.0.0.0/33")
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.NotEqual(t, 0, exit.ExitCode())
	assert.Contains(t, string(out), "--dns-forward-allow", "%s", out)
	assert.Contains(t, string(out), "10.0.0.0/33", "%s", out)

	args = append(append([]string{}, common...), "--data-dir", t.TempDir(),
		"--dns-forward-allow", "127.0.0.1/32,10.0.0.0/8", "--dns-forward-allow", "fd00::1")
	srv := exec.CommandContext(ctx, bin, args...)
	stderr, err := srv.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	})
	sc := bufio.NewScanner(stderr)
	var line string
	for sc.Scan() {
		if strings.Contains(sc.Text(), "dns server listening") {
			line = sc.Text()
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	assert.Contains(t, line, `forward_allow="[127.0.0.1/32 10.0.0.0/8 fd00::1/128]"`, line)
}
