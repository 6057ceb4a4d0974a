package test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/agent"
	"github.com/meshgate/meshgate/certs"
)

// agentLeafLifetime is alpha's leaf lifetime: seconds are accepted (there is no minimum), and
// 8 s renews at about 6.4 s, so two renewals fit in well under a minute.
const agentLeafLifetime = 8 * time.Second

var agentResources = fmt.Sprintf(`
type: Mesh
name: alpha
mtls:
  enabledBackend: ca-1
  backends:
  - name: ca-1
    type: builtin
    dpCert: {rotation: {expiration: %s}}
---
type: Mesh
name: beta
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: alpha
name: web-1
networking:
  address: 127.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, version: v1}}]
`, agentLeafLifetime)

// `meshgate agent` against a real control plane over HTTPS: go-spiffe's Workload API client
// gets the dataplane's SVID (spiffe://alpha/web) with alpha's bundle and beta's beside it; the
// files are there with the right modes and openssl verifies the SVID with bundle.pem; with
// 8-second leaves the watcher is pushed a new SVID at least twice and the files follow.
func TestAgentServesWorkloadAPIAndFiles(t *testing.T) {
	bin := buildBinary(t)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cp := launchBinaryCPIn(t, bin, t.TempDir(), "--api-tls-address", tlsAddr, "--debounce", "20ms")

	work := shortTempDir(t)
	resources := filepath.Join(work, "resources.yaml")
	require.NoError(t, os.WriteFile(resources, []byte(agentResources), 0o600))
	cp.cli(t, "apply", "-f", resources)
	token := cp.cli(t, "token", "dataplane", "--mesh", "alpha", "--name", "web-1")
	tokenFile := filepath.Join(work, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	caFile := filepath.Join(work, "cp-ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(cp.cli(t, "ca", "control-plane")), 0o600))

	socket := filepath.Join(work, "agent.sock")
	certDir := filepath.Join(work, "certs")
	logs := startAgent(t, bin, "--cp-address", "https://"+tlsAddr, "--ca-file", caFile, "--token-file", tokenFile,
		"--socket", socket, "--cert-dir", certDir, "--refresh", "2s")
	addr := workloadapi.WithAddr("unix://" + socket)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var first *workloadapi.X509Context
	require.Eventually(t, func() bool {
		fctx, done := context.WithTimeout(ctx, 2*time.Second)
		defer done()
		var err error
		first, err = workloadapi.FetchX509Context(fctx, addr)
		return err == nil
	}, 30*time.Second, 200*time.Millisecond, "the agent never served an X509 context; its log:\n%s", logs)
	svid := first.DefaultSVID()
	assert.Equal(t, "spiffe://alpha/web", svid.ID.String())
	for _, td := range []string{"alpha", "beta"} {
		_, ok := first.Bundles.Get(spiffeid.RequireTrustDomainFromString(td))
		assert.True(t, ok, "bundle of %s in the X509 context", td)
	}
	alphaBundle, _ := first.Bundles.Get(spiffeid.RequireTrustDomainFromString("alpha"))
	_, err := svid.Certificates[0].Verify(x509.VerifyOptions{Roots: poolOfCerts(alphaBundle.X509Authorities()),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.NoError(t, err, "the SVID chains to alpha's roots")

	// The files: modes, contents, openssl's verdict, gRPC's bundle map.
	mode := func(path string) os.FileMode {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Mode()
	}
	assert.Equal(t, os.FileMode(0o600), mode(filepath.Join(certDir, agent.SVIDKeyFile)).Perm(), "the key is the owner's only")
	assert.Equal(t, os.FileMode(0o600), mode(socket).Perm(), "the socket is the owner's only")
	assert.NotZero(t, mode(socket)&os.ModeSocket)
	for _, f := range []string{agent.SVIDFile, agent.BundleFile, agent.BundleMapFile} {
		assert.Equal(t, os.FileMode(0o644), mode(filepath.Join(certDir, f)).Perm(), f)
	}
	out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(certDir, agent.BundleFile),
		filepath.Join(certDir, agent.SVIDFile)).CombinedOutput()
	require.NoError(t, err, "openssl verify: %s", out)
	assert.Contains(t, string(out), ": OK")
	assertBundleMap(t, filepath.Join(certDir, agent.BundleMapFile), first)

	// The Workload API's own rules: the security header, and no JWT.
	assertWorkloadAPIRules(t, ctx, socket)

	// Rotation: the watcher is pushed new SVIDs, the files follow.
	filesBefore := readFile(t, filepath.Join(certDir, agent.SVIDFile))
	w := &svidWatcher{updates: make(chan *workloadapi.X509Context, 16)}
	wctx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan error, 1)
	go func() { watchDone <- workloadapi.WatchX509Context(wctx, w, addr) }()
	defer func() {
		stopWatch()
		<-watchDone
	}()
	seen := map[string]bool{}
	var latest *workloadapi.X509Context
	deadline := time.After(3*agentLeafLifetime + 15*time.Second)
	for len(seen) < 3 {
		select {
		case c := <-w.updates:
			latest = c
			seen[c.DefaultSVID().Certificates[0].SerialNumber.String()] = true
			assert.Equal(t, "spiffe://alpha/web", c.DefaultSVID().ID.String())
		case <-deadline:
			t.Fatalf("the watcher saw %d distinct SVIDs, want the first and two renewals; watch error %v; agent log:\n%s",
				len(seen), w.err(), logs)
		}
	}
	require.Eventually(t, func() bool {
		chain := readFile(t, filepath.Join(certDir, agent.SVIDFile))
		return !bytes.Equal(chain, filesBefore) && bytes.Equal(pemLeafRaw(t, chain), latest.DefaultSVID().Certificates[0].Raw) ||
			// A renewal between the push and this read: the files are newer still.
			!bytes.Equal(chain, filesBefore) && !seen[leafSerial(t, chain)]
	}, 10*time.Second, 100*time.Millisecond, "svid.pem never followed the rotation")
	out, err = exec.Command("openssl", "verify", "-CAfile", filepath.Join(certDir, agent.BundleFile),
		filepath.Join(certDir, agent.SVIDFile)).CombinedOutput()
	require.NoError(t, err, "openssl verify after rotation: %s", out)
}

// shortTempDir is a temporary directory with a short path: a unix socket path must fit in
// 108 bytes, and t.TempDir's can be longer.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mg-agent-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// startAgent runs `meshgate agent` until the test ends and returns its log.
func startAgent(t *testing.T, bin string, args ...string) *syncBuffer {
	t.Helper()
	var logs syncBuffer
	cmd := exec.Command(bin, append([]string{"agent"}, args...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("the agent did not stop within 10s of SIGINT")
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	return &logs
}

func assertBundleMap(t *testing.T, path string, want *workloadapi.X509Context) {
	t.Helper()
	// As gRPC's internal/credentials/spiffe.BundleMapFromBytes reads it.
	var doc struct {
		TrustDomains map[string]json.RawMessage `json:"trust_domains"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, path), &doc))
	require.Len(t, doc.TrustDomains, 2, "alpha and beta")
	for name, raw := range doc.TrustDomains {
		td, err := spiffeid.TrustDomainFromString(name)
		require.NoError(t, err)
		assert.Equal(t, td.Name(), name, "keyed by the bare trust domain, as gRPC looks peers up")
		b, err := spiffebundle.Parse(td, raw)
		require.NoError(t, err, name)
		wb, ok := want.Bundles.Get(td)
		require.True(t, ok, name)
		assert.True(t, b.X509Bundle().Equal(wb), "%s's roots in the bundle map are the Workload API's", name)
	}
}

func assertWorkloadAPIRules(t *testing.T, ctx context.Context, socket string) {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	c := workload.NewSpiffeWorkloadAPIClient(conn)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stream, err := c.FetchX509SVID(cctx, &workload.X509SVIDRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "without the security header: %v", err)

	hctx := metadata.AppendToOutgoingContext(cctx, "workload.spiffe.io", "true")
	_, err = c.FetchJWTSVID(hctx, &workload.JWTSVIDRequest{Audience: []string{"x"}})
	assert.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "X.509 SVIDs only")

	bundles, err := c.FetchX509Bundles(hctx, &workload.X509BundlesRequest{})
	require.NoError(t, err)
	resp, err := bundles.Recv()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"spiffe://alpha", "spiffe://beta"}, keysOfBytes(resp.Bundles))
}

// svidWatcher hands every X509 context the agent pushes to the test.
type svidWatcher struct {
	updates chan *workloadapi.X509Context
	mu      sync.Mutex
	last    error
}

func (w *svidWatcher) OnX509ContextUpdate(c *workloadapi.X509Context) { w.updates <- c }

func (w *svidWatcher) OnX509ContextWatchError(err error) {
	w.mu.Lock()
	w.last = err
	w.mu.Unlock()
}

func (w *svidWatcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func poolOfCerts(cs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func pemLeafRaw(t *testing.T, chain []byte) []byte {
	t.Helper()
	c := pemLeaf(t, chain)
	return c.Raw
}

func leafSerial(t *testing.T, chain []byte) string {
	t.Helper()
	return pemLeaf(t, chain).SerialNumber.String()
}

func pemLeaf(t *testing.T, chain []byte) *x509.Certificate {
	t.Helper()
	cs, err := certs.ParseCertificates(chain)
	require.NoError(t, err)
	return cs[0]
}

func keysOfBytes(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
