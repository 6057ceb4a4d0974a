package dns

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const digPath = "/usr/bin/dig"

// dig is what users type; it must resolve our names over UDP and TCP.
func TestDig(t *testing.T) {
	if _, err := os.Stat(digPath); err != nil {
		t.Fatalf("%s is missing: install the Debian package dnsutils (apt-get install -y dnsutils): %v", digPath, err)
	}
	_, addr := startServer(t, Options{DefaultView: "default"}, testZone(t))
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	for _, extra := range [][]string{nil, {"+tcp"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		args := append([]string{"@" + host, "-p", port, "internal.edge.default.mesh", "A", "+tries=1", "+time=3"}, extra...)
		out, err := exec.CommandContext(ctx, digPath, args...).CombinedOutput()
		cancel()
		require.NoError(t, err, "dig %v: %s", args, out)
		s := string(out)
		assert.Contains(t, s, "status: NOERROR", s)
		assert.Contains(t, s, " aa", "authoritative flag: %s", s)
		assert.Regexp(t, `internal\.edge\.default\.mesh\.\s+30\s+IN\s+A\s+240\.0\.0\.1`, s)

		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		out, err = exec.CommandContext(ctx, digPath, append([]string{"@" + host, "-p", port, "nope.mesh", "+tries=1", "+time=3"}, extra...)...).CombinedOutput()
		cancel()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "status: NXDOMAIN")
		assert.True(t, strings.Contains(string(out), "SOA"), "%s", out)
	}
}

// Go's own resolver is what meshgate-adjacent Go programs use.
func TestGoResolver(t *testing.T) {
	_, addr := startServer(t, Options{DefaultView: "default"}, testZone(t))
	for _, netw := range []string{"udp", "tcp"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, netw, addr)
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ips, err := r.LookupHost(ctx, "internal.edge.default.mesh.")
		cancel()
		require.NoError(t, err, netw)
		assert.ElementsMatch(t, []string{"240.0.0.1", "fd00::1"}, ips, netw)

		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		ips, err = r.LookupHost(ctx, "backend.mesh.")
		cancel()
		require.NoError(t, err, netw)
		assert.Equal(t, []string{"240.0.0.10"}, ips, netw)

		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		_, err = r.LookupHost(ctx, "nope.mesh.")
		cancel()
		var dnsErr *net.DNSError
		require.ErrorAs(t, err, &dnsErr, netw)
		assert.True(t, dnsErr.IsNotFound, netw)
	}
}
