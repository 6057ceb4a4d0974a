package test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/meshgate/meshgate/agent"
)

// proxylessShortLeaves is mesh alpha with 15-second leaves: the agent renews them at 12 s.
const proxylessShortLeaves = `
type: Mesh
name: alpha
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      dpCert: {rotation: {expiration: 15s}}
---
type: Dataplane
mesh: alpha
name: echo-1
labels: {meshgate.io/proxy-type: proxyless}
networking:
  address: 127.0.0.1
  inbound: [{port: %[1]d, tags: {kuma.io/service: echo, kuma.io/protocol: grpc}}]
---
type: Dataplane
mesh: alpha
name: caller-1
labels: {meshgate.io/proxy-type: proxyless}
networking:
  address: 127.0.0.1
  inbound: [{port: %[2]d, tags: {kuma.io/service: caller, kuma.io/protocol: grpc}}]
  outbound: [{port: 8080, tags: {kuma.io/service: echo}}]
` + "---\n" + callerToEcho

// TestProxylessRenewals: with 15-second leaves, `meshgate agent` renews both sides' SVIDs and
// gRPC's file watchers (re-reading every second, `bootstrap --proxyless
// --cert-refresh-interval 1s`) pick them up: RPCs, each on a new connection and so a new
// handshake with the certificates of the moment, keep succeeding while the server presents at
// least three different certificates (two renewals) and the client's file changes too.
func TestProxylessRenewals(t *testing.T) {
	bin := buildBinary(t)
	app := buildProxylessApp(t)
	work := shortTempDir(t)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cp := launchBinaryCPIn(t, bin, t.TempDir(), "--api-tls-address", tlsAddr, "--debounce", "20ms")
	echoPort := freePort(t)
	resources := filepath.Join(work, "resources.yaml")
	require.NoError(t, os.WriteFile(resources, fmt.Appendf(nil, proxylessShortLeaves, echoPort, freePort(t)), 0o600))
	cp.cli(t, "apply", "-f", resources)
	caFile := filepath.Join(work, "cp-ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(cp.cli(t, "ca", "control-plane")), 0o600))

	env := pl{t: t, bin: bin, app: app, cp: cp, work: work, tlsAddr: tlsAddr, caFile: caFile, resources: resources}
	echo, caller := env.dataplane("alpha", "echo-1"), env.dataplane("alpha", "caller-1")
	for _, dp := range []plDataplane{echo, caller} {
		cp.cli(t, "bootstrap", "--proxyless", "--dataplane-file", dp.file, "--dataplane-token-file", dp.token,
			"--cp-address", cp.xds, "--cp-ca-file", caFile, "--cert-dir", dp.certDir, "--cert-refresh-interval", "1s", "-o", dp.bootstrap)
	}
	server := env.start(echo, nil, "server", "-addr", fmt.Sprintf("127.0.0.1:%d", echoPort), "-name", "echo-1")
	server.waitLine("SERVING", 30*time.Second)
	client := env.start(caller, nil, "client", "-target", "xds:///echo.mesh:8080", "-fresh")
	first := client.callUntil(codes.OK, 30*time.Second)
	require.NotEmpty(t, first.ServerSerial)

	callerSVID := func() []byte { return readFile(t, filepath.Join(caller.certDir, agent.SVIDFile)) }
	startSVID := callerSVID()
	serials := map[string]bool{first.ServerSerial: true}
	deadline := time.Now().Add(60 * time.Second)
	calls := 0
	for len(serials) < 3 || bytes.Equal(callerSVID(), startSVID) {
		require.True(t, time.Now().Before(deadline), "within 60 s of 15-second leaves the server presented only %d certificates (after %d calls)", len(serials), calls)
		r := client.call()
		calls++
		require.Equal(t, codes.OK.String(), r.Code, "call %d failed across a renewal: %+v", calls, r)
		require.Equal(t, "spiffe://alpha/echo", r.ServerID)
		require.Equal(t, "spiffe://alpha/caller", r.SeenByServer)
		serials[r.ServerSerial] = true
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("%d calls, all OK, across %d server certificates", calls, len(serials))
}
