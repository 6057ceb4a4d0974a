package test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crossMeshYAML: mesh `default` exposes its edge gateway to every mesh; mesh `other` has a
// `web` service of its own.
const crossMeshYAML = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: other
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: default
name: edge-1
networking:
  address: 127.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: edge}}]
conf: {listeners: [{port: 8080, protocol: HTTP, crossMesh: true}]}
---
type: Dataplane
mesh: other
name: web-1
networking:
  address: 127.0.0.2
  inbound: [{port: 9000, tags: {kuma.io/service: web}}]
`

func queryA(t *testing.T, server, name string) (*mdns.Msg, error) {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), mdns.TypeA)
	c := &mdns.Client{Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, server)
	return resp, err
}

func aRecord(t *testing.T, resp *mdns.Msg) string {
	t.Helper()
	require.Equal(t, mdns.RcodeSuccess, resp.Rcode, resp.String())
	require.Len(t, resp.Answer, 1, resp.String())
	a, ok := resp.Answer[0].(*mdns.A)
	require.True(t, ok)
	return a.A.String()
}

// TestMeshNamesOverDNS: the cross-mesh listener's internal name resolves for everyone, at a VIP
// from 240.0.0.0/4 that survives a restart; unknown names are NXDOMAIN; dig agrees.
func TestMeshNamesOverDNS(t *testing.T) {
	dataDir := t.TempDir()
	cp := startCP(t, dataDir)
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(crossMeshYAML))
	require.Equal(t, http.StatusOK, code, string(body))

	var vip string
	require.Eventually(t, func() bool {
		resp, err := queryA(t, cp.addrs.DNS, "internal.edge.default.mesh")
		if err != nil || resp.Rcode != mdns.RcodeSuccess || len(resp.Answer) == 0 {
			return false
		}
		vip = aRecord(t, resp)
		return true
	}, 5*time.Second, 50*time.Millisecond)
	assert.True(t, strings.HasPrefix(vip, "24"), vip)

	resp, err := queryA(t, cp.addrs.DNS, "nothing.default.mesh")
	require.NoError(t, err)
	assert.Equal(t, mdns.RcodeNameError, resp.Rcode)
	require.NotEmpty(t, resp.Ns, "NXDOMAIN carries the SOA")

	if dig, err := exec.LookPath("dig"); err == nil {
		host, port, _ := strings.Cut(cp.addrs.DNS, ":")
		out, err := exec.Command(dig, "@"+host, "-p", port, "+short", "internal.edge.default.mesh").CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Equal(t, vip, strings.TrimSpace(string(out)))
	} else {
		t.Fatalf("dig not found: install the Debian package dnsutils (.ci/run does)")
	}

	cp.stop()
	cp2 := startCP(t, dataDir)
	resp, err = queryA(t, cp2.addrs.DNS, "internal.edge.default.mesh")
	require.NoError(t, err)
	assert.Equal(t, vip, aRecord(t, resp), "the VIP must survive a restart")
}
