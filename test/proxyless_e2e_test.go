package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/meshgate/meshgate/agent"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/xds/bootstrap"
)

// proxylessResources: mesh alpha (builtin CA) with the gRPC server echo and the client caller,
// mesh beta (a provided CA the test holds, so it can also forge) with the client shopper, which
// reaches alpha's echo directly. All three are proxyless. No TrafficPermission yet: mTLS meshes
// deny by default.
const proxylessResources = `
type: Mesh
name: alpha
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: beta
mtls:
  enabledBackend: ca-1
  backends:
  - name: ca-1
    type: provided
    conf:
      cert: {file: %[1]s}
      key: {file: %[2]s}
---
type: Dataplane
mesh: alpha
name: echo-1
labels: {meshgate.io/proxy-type: proxyless}
networking:
  address: 127.0.0.1
  inbound: [{port: %[3]d, tags: {kuma.io/service: echo, kuma.io/protocol: grpc}}]
---
type: Dataplane
mesh: alpha
name: caller-1
labels: {meshgate.io/proxy-type: proxyless}
networking:
  address: 127.0.0.1
  inbound: [{port: %[4]d, tags: {kuma.io/service: caller, kuma.io/protocol: grpc}}]
  outbound: [{port: 8080, tags: {kuma.io/service: echo}}]
---
type: Dataplane
mesh: beta
name: shopper-1
labels: {meshgate.io/proxy-type: proxyless}
networking:
  address: 127.0.0.1
  inbound: [{port: %[5]d, tags: {kuma.io/service: shopper, kuma.io/protocol: grpc}}]
  outbound: [{port: 8080, tags: {kuma.io/service: echo, kuma.io/mesh: alpha}}]
`

const callerToEcho = `
type: TrafficPermission
mesh: alpha
name: caller-to-echo
sources: [{match: {kuma.io/service: caller}}]
destinations: [{match: {kuma.io/service: echo}}]
`

const betaShopperToEcho = `
type: TrafficPermission
mesh: alpha
name: beta-shopper-to-echo
sources: [{match: {kuma.io/mesh: beta, kuma.io/service: shopper}}]
destinations: [{match: {kuma.io/service: echo}}]
`

// TestProxylessGRPC runs gRPC-Go's own xDS server and clients, each its own process with the
// bootstrap `meshgate bootstrap --proxyless` prints and the certificate files `meshgate agent`
// writes, against a real control plane: real mTLS RPCs on meshgate's configuration.
//   - alpha/caller → alpha/echo over xds:///echo.mesh:8080: PermissionDenied by the server's
//     RBAC until a TrafficPermission admits caller, then OK without restarting anything; each
//     side sees the other's SPIFFE ID.
//   - beta/shopper → alpha/echo over xds:///echo.alpha.mesh:8080, directly: refused until a
//     permission names source kuma.io/mesh: beta, then OK, and refused again once that
//     permission names another mesh; the server checked shopper's certificate against beta's
//     bundle (GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE, the bundle map).
//   - a client presenting spiffe://alpha/caller, which caller-to-echo admits, but issued by
//     beta's CA: refused in the handshake, since alpha's SPIFFE ID is checked against alpha's
//     bundle only.
func TestProxylessGRPC(t *testing.T) {
	require.Equal(t, agent.SVIDFile, bootstrap.SVIDFile, "the bootstrap watches the files the agent writes")
	require.Equal(t, agent.SVIDKeyFile, bootstrap.SVIDKeyFile)
	require.Equal(t, agent.BundleFile, bootstrap.BundleFile)
	require.Equal(t, agent.BundleMapFile, bootstrap.SPIFFEBundleMapFile)

	bin := buildBinary(t)
	app := buildProxylessApp(t)
	work := shortTempDir(t)

	betaCA := certstest.NewRoot(t, "beta-ca")
	betaCert, betaKey := filepath.Join(work, "beta-ca.pem"), filepath.Join(work, "beta-ca-key.pem")
	require.NoError(t, os.WriteFile(betaCert, betaCA.CertPEM(), 0o600))
	require.NoError(t, os.WriteFile(betaKey, betaCA.KeyPEM(t), 0o600))

	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cp := launchBinaryCPIn(t, bin, t.TempDir(), "--api-tls-address", tlsAddr, "--debounce", "20ms")
	echoPort := freePort(t)
	resources := filepath.Join(work, "resources.yaml")
	require.NoError(t, os.WriteFile(resources, fmt.Appendf(nil, proxylessResources, betaCert, betaKey, echoPort, freePort(t), freePort(t)), 0o600))
	cp.cli(t, "apply", "-f", resources)
	caFile := filepath.Join(work, "cp-ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(cp.cli(t, "ca", "control-plane")), 0o600))

	env := pl{t: t, bin: bin, app: app, cp: cp, work: work, tlsAddr: tlsAddr, caFile: caFile, resources: resources}
	echo := env.dataplane("alpha", "echo-1")
	caller := env.dataplane("alpha", "caller-1")
	shopper := env.dataplane("beta", "shopper-1")

	// At info level gRPC logs why it refused a connection's handshake.
	server := env.start(echo, []string{"GRPC_GO_LOG_SEVERITY_LEVEL=info"}, "server", "-addr", fmt.Sprintf("127.0.0.1:%d", echoPort), "-name", "echo-1")
	server.waitLine("SERVING", 30*time.Second)

	// Same mesh: denied by default, admitted once caller-to-echo exists.
	client := env.start(caller, nil, "client", "-target", "xds:///echo.mesh:8080")
	client.callUntil(codes.PermissionDenied, 30*time.Second)
	env.apply("caller-to-echo.yaml", callerToEcho)
	r := client.callUntil(codes.OK, 20*time.Second)
	assert.Equal(t, "spiffe://alpha/echo", r.ServerID, "the client verified the server's SPIFFE ID")
	assert.Equal(t, "spiffe://alpha/caller", r.SeenByServer, "the server saw the client's SPIFFE ID")
	assert.Equal(t, "echo-1", r.Server)

	// Across meshes: beta's shopper reaches alpha's echo directly, once alpha admits mesh beta.
	cross := env.start(shopper, nil, "client", "-target", "xds:///echo.alpha.mesh:8080")
	cross.callUntil(codes.PermissionDenied, 30*time.Second)
	env.apply("beta-shopper-to-echo.yaml", betaShopperToEcho)
	r = cross.callUntil(codes.OK, 20*time.Second)
	assert.Equal(t, "spiffe://alpha/echo", r.ServerID)
	assert.Equal(t, "spiffe://beta/shopper", r.SeenByServer, "verified against beta's bundle, admitted by kuma.io/mesh: beta")

	// Mesh A's identity from B's CA: shopper's configuration and token, but a certificate for
	// spiffe://alpha/caller (which caller-to-echo admits) signed by beta's CA.
	forged := shopper
	forged.certDir, forged.bootstrap = filepath.Join(work, "forged"), filepath.Join(work, "forged.json")
	require.NoError(t, os.MkdirAll(forged.certDir, 0o700))
	for _, f := range []string{agent.BundleFile, agent.BundleMapFile} {
		require.NoError(t, os.WriteFile(filepath.Join(forged.certDir, f), readFile(t, filepath.Join(shopper.certDir, f)), 0o600))
	}
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	leaf := betaCA.SignLeaf(t, certs.LeafParams{URIs: []*url.URL{{Scheme: "spiffe", Host: "alpha", Path: "/caller"}}, PublicKey: key.Public()})
	keyPEM, err := certs.EncodePrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(forged.certDir, agent.SVIDFile), certs.EncodeCertificates(leaf), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(forged.certDir, agent.SVIDKeyFile), keyPEM, 0o600))
	env.writeBootstrap(forged)
	const unknownCA = "failed: x509: certificate signed by unknown authority"
	require.NotContains(t, server.logs.String(), unknownCA, "no certificate was refused before the forged identity")
	forger := env.start(forged, nil, "client", "-target", "xds:///echo.alpha.mesh:8080")
	r = forger.callUntil(codes.Unavailable, 30*time.Second)
	assert.Empty(t, r.SeenByServer, "no RPC reached the server")
	assert.Contains(t, server.logs.String(), unknownCA,
		"the server refused the certificate in the handshake: alpha's ID checked against alpha's bundle only")
	// It stays refused: not a transient failure while the client was starting.
	for range 3 {
		r = forger.call()
		assert.Equal(t, codes.Unavailable.String(), r.Code, "the forged identity is refused every time: %+v", r)
	}
	// The genuine callers are unaffected.
	assert.Equal(t, codes.OK.String(), cross.call().Code)
	assert.Equal(t, codes.OK.String(), client.call().Code)

	// The source's mesh is what admits shopper: naming another mesh, the same permission does not.
	env.apply("beta-shopper-to-echo.yaml", strings.Replace(betaShopperToEcho, "kuma.io/mesh: beta", "kuma.io/mesh: gamma", 1))
	cross.callUntil(codes.PermissionDenied, 20*time.Second)
	assert.Equal(t, codes.OK.String(), client.call().Code, "caller-to-echo still admits alpha's caller")

	// gRPC accepted every resource meshgate sent it: ACKs of each type, no NACK at all.
	acked := map[string]bool{}
	for _, line := range strings.Split(cp.metrics(t), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(name, "meshgate_xds_nacks_total{") {
			assert.Equal(t, "0", value, "gRPC NACKed: %s", line)
		}
		if strings.HasPrefix(name, "meshgate_xds_acks_total{") && value != "0" {
			for _, typ := range []string{"listener", "route", "cluster", "endpoint"} {
				if strings.Contains(name, `"`+typ+`"`) {
					acked[typ] = true
				}
			}
		}
	}
	assert.Equal(t, map[string]bool{"listener": true, "route": true, "cluster": true, "endpoint": true}, acked,
		"gRPC ACKed listeners, route configurations, clusters and endpoints")
}

// pl is the proxyless test's environment.
type pl struct {
	t                               *testing.T
	bin, app, work, tlsAddr, caFile string
	resources                       string
	cp                              *binaryCP
}

// plDataplane is one proxyless dataplane: its bootstrap and the directory of its certificates.
type plDataplane struct {
	mesh, name, bootstrap, certDir string
	// token and file are the dataplane's token file and its Dataplane resource.
	token, file string
}

// dataplane starts `meshgate agent` for mesh/name and writes its bootstrap with
// `meshgate bootstrap --proxyless`, as a user sets up a proxyless workload.
func (e pl) dataplane(mesh, name string) plDataplane {
	t := e.t
	t.Helper()
	dir := filepath.Join(e.work, name)
	require.NoError(t, os.MkdirAll(dir, 0o700))
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte(e.cp.cli(t, "token", "dataplane", "--mesh", mesh, "--name", name)), 0o600))
	dp := plDataplane{mesh: mesh, name: name, bootstrap: filepath.Join(dir, "bootstrap.json"), certDir: filepath.Join(dir, "certs"),
		token: token, file: filepath.Join(dir, "dataplane.yaml")}
	logs := startAgent(t, e.bin, "--cp-address", "https://"+e.tlsAddr, "--ca-file", e.caFile, "--token-file", token,
		"--socket", filepath.Join(dir, "agent.sock"), "--cert-dir", dp.certDir, "--refresh", "2s")
	require.Eventually(t, func() bool {
		for _, f := range []string{agent.SVIDFile, agent.SVIDKeyFile, agent.BundleFile, agent.BundleMapFile} {
			if _, err := os.Stat(filepath.Join(dp.certDir, f)); err != nil {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "the agent of %s/%s never wrote its files; its log:\n%s", mesh, name, logs)

	require.NoError(t, os.WriteFile(dp.file, []byte(e.cp.cli(t, "get", "dataplane", name, "--mesh", mesh, "-o", "yaml")), 0o600))
	e.writeBootstrap(dp)
	return dp
}

// writeBootstrap writes dp's gRPC bootstrap with `meshgate bootstrap --proxyless`.
func (e pl) writeBootstrap(dp plDataplane) {
	e.t.Helper()
	e.cp.cli(e.t, "bootstrap", "--proxyless", "--dataplane-file", dp.file, "--dataplane-token-file", dp.token,
		"--cp-address", e.cp.xds, "--cp-ca-file", e.caFile, "--cert-dir", dp.certDir, "-o", dp.bootstrap)
}

func (e pl) apply(name, doc string) {
	e.t.Helper()
	f := filepath.Join(e.work, name)
	require.NoError(e.t, os.WriteFile(f, []byte(doc), 0o600))
	e.cp.cli(e.t, "apply", "-f", f)
}

// start runs the test application as dataplane dp until the test ends.
func (e pl) start(dp plDataplane, env []string, args ...string) *plApp {
	t := e.t
	t.Helper()
	cmd := exec.Command(e.app, args...)
	cmd.Env = append(os.Environ(),
		"GRPC_XDS_BOOTSTRAP="+dp.bootstrap,
		bootstrap.EnvCallCreds+"=true",
		bootstrap.EnvSPIFFE+"=true",
	)
	cmd.Env = append(cmd.Env, env...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	a := &plApp{t: t, name: dp.mesh + "/" + dp.name + " " + args[0], stdin: stdin, lines: make(chan string, 64)}
	cmd.Stderr = &a.logs
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			a.lines <- sc.Text()
		}
		close(a.lines)
	}()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", a.name, a.logs.String())
		}
	})
	return a
}

// plApp is a running example application.
type plApp struct {
	t     *testing.T
	name  string
	stdin io.WriteCloser
	lines chan string
	logs  syncBuffer
	mu    sync.Mutex
}

// plResult is one line the client prints per call.
type plResult struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	ServerID     string `json:"serverID"`
	SeenByServer string `json:"seenByServer"`
	Server       string `json:"server"`
	ServerSerial string `json:"serverSerial"`
}

func (a *plApp) next(timeout time.Duration) (string, bool) {
	select {
	case l, ok := <-a.lines:
		return l, ok
	case <-time.After(timeout):
		return "", false
	}
}

// waitLine waits for an output line starting with prefix, failing with what came instead.
func (a *plApp) waitLine(prefix string, timeout time.Duration) {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []string
	for time.Now().Before(deadline) {
		l, ok := a.next(time.Until(deadline))
		if !ok {
			break
		}
		if strings.HasPrefix(l, prefix) {
			return
		}
		seen = append(seen, l)
	}
	a.t.Fatalf("%s never printed %q within %s; it printed %q; its log:\n%s", a.name, prefix, timeout, seen, a.logs.String())
}

// call makes one RPC (the client gives up on it after 3 s).
func (a *plApp) call() plResult {
	a.t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := io.WriteString(a.stdin, "call\n")
	require.NoError(a.t, err, "%s: %s", a.name, a.logs.String())
	l, ok := a.next(10 * time.Second)
	require.True(a.t, ok, "%s answered nothing; its log:\n%s", a.name, a.logs.String())
	var r plResult
	require.NoError(a.t, json.Unmarshal([]byte(l), &r), l)
	return r
}

// callUntil calls every 200 ms until a call ends with want, and returns that call's result.
func (a *plApp) callUntil(want codes.Code, timeout time.Duration) plResult {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var last plResult
	for time.Now().Before(deadline) {
		if last = a.call(); last.Code == want.String() {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.t.Fatalf("%s: no call ended with %s within %s; the last: %+v; its log:\n%s", a.name, want, timeout, last, a.logs.String())
	return last
}

// buildProxylessApp builds examples/proxyless/app, the example application.
func buildProxylessApp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "proxylessapp")
	out, err := exec.Command("go", "build", "-o", bin, "../examples/proxyless/app").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}
