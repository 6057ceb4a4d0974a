package test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// binaryCP is `meshgate run` started as a process, as an operator runs it.
type binaryCP struct {
	bin            string
	xds, api, diag string
	// kds is where zones connect, on a global control plane.
	kds     string
	pid     int
	environ []string
	// stop interrupts the process and waits for it (at most 15 s, then kills it); later
	// calls do nothing.
	stop func()
}

// startBinaryCP runs the real binary on loopback with the example gateway and waits until it
// is ready.
func startBinaryCP(t *testing.T, extra ...string) *binaryCP {
	t.Helper()
	return launchBinaryCP(t, append([]string{"--resources", "../examples/gateway"}, extra...)...)
}

// launchBinaryCP runs `meshgate run` on loopback with a fresh data dir and the given flags,
// waits until it is ready and stops it when the test ends; its log is shown if the test fails.
func launchBinaryCP(t *testing.T, flags ...string) *binaryCP {
	t.Helper()
	return launchBinaryCPIn(t, buildBinary(t), t.TempDir(), flags...)
}

var kdsLine = regexp.MustCompile(` kds=([^"\s]\S*)`)

// launchBinaryCPIn is launchBinaryCP with a given binary and data dir, so a test can stop a
// control plane and start it again on the same state.
func launchBinaryCPIn(t *testing.T, bin, dataDir string, flags ...string) *binaryCP {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"run", "--data-dir", dataDir,
		"--xds-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--diag-address", "127.0.0.1:0",
		"--dns-address", "127.0.0.1:0", "--dns-forward=false", "--api-tls-address", ""}, flags...)
	srv := exec.CommandContext(ctx, bin, args...)
	stderr, err := srv.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	var logs syncBuffer
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = srv.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = srv.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cancel()
				<-done
			}
			cancel()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("control plane log (%s):\n%s", strings.Join(flags, " "), logs.String())
		}
	})
	cp := &binaryCP{bin: bin, pid: srv.Process.Pid, stop: stop}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		_, _ = logs.Write(append(sc.Bytes(), '\n'))
		if m := runningLine.FindStringSubmatch(sc.Text()); m != nil {
			cp.xds, cp.api, cp.diag = m[1], m[2], m[3]
			if k := kdsLine.FindStringSubmatch(sc.Text()); k != nil {
				cp.kds = k[1]
			}
			break
		}
	}
	require.NotEmpty(t, cp.api, "server never logged its addresses:\n%s", logs.String())
	go func() { _, _ = io.Copy(&logs, stderr) }()
	cp.environ = append(os.Environ(), "MESHGATE_API_ADDRESS=http://"+cp.api)
	require.Eventually(t, func() bool { return readyStatus(cp) == http.StatusOK }, 20*time.Second, 50*time.Millisecond,
		"control plane never ready")
	return cp
}

// cli runs a meshgate command against the control plane and returns its standard output.
func (cp *binaryCP) cli(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cp.bin, args...)
	cmd.Env = cp.environ
	out, err := cmd.Output()
	require.NoError(t, err, "meshgate %s: %s", strings.Join(args, " "), stderrOf(err))
	return string(out)
}

func (cp *binaryCP) openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(cp.pid), "fd"))
	require.NoError(t, err)
	return len(fds)
}

func (cp *binaryCP) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + cp.diag + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestIdleConnectionsCannotStarveTheControlPlane is the exhaustion attack of the hardening
// issue: 10,000 idle connections to the API and 10,000 to xDS, from 60 loopback addresses, held
// open while a legitimate operator and dataplane go about their business. Before the limits,
// these exhausted the process's 20,000 descriptors and took every server down.
func TestIdleConnectionsCannotStarveTheControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 20,000 connections")
	}
	cp := startBinaryCP(t)
	baseline := cp.openFiles(t)

	apiHeld := attack(t, cp.api, 10000, 2, 40)
	// Fewer addresses on xDS, so each meets its per-address limit.
	xdsHeld := attack(t, cp.xds, 10000, 100, 20)
	require.Greater(t, apiHeld, 9000, "the attacker must get its connections through the kernel")
	require.Greater(t, xdsHeld, 9000)
	open := cp.openFiles(t)
	t.Logf("control plane descriptors: %d before the attack, %d under it", baseline, open)
	assert.Less(t, open, 16000, "the limits keep the process well inside its descriptors")

	// The operator's CLI still answers.
	assert.Contains(t, cp.cli(t, "get", "meshgatewayroutes", "--mesh", "default"), "api-route")
	token := cp.cli(t, "token", "dataplane", "--mesh", "default", "--name", "gateway-instance-1")
	caPEM := cp.cli(t, "ca", "control-plane")

	// A dataplane still connects over TLS and gets its configuration.
	xdsCAs.Store(cp.xds, []byte(caPEM))
	t.Cleanup(func() { xdsCAs.Delete(cp.xds) })
	gw := newSotW(t, dialADS(t, cp.xds), gatewayNode, strings.TrimSpace(token))
	gw.subscribe(resourcev3.ListenerType)
	assert.Equal(t, []string{"edge-gateway:HTTP:8080"}, resourceNames(t, gw.next(resourcev3.ListenerType, 20*time.Second)))

	m := cp.metrics(t)
	assert.Regexp(t, `meshgate_listener_connections_refused_total\{listener="xds",reason="per_address"\} [1-9]`, m)
	assert.Regexp(t, `meshgate_listener_connections_refused_total\{listener="api",reason="displaced"\} [1-9]`, m,
		"the operator's connections displaced the attacker's")
}

// metricValue reads one sample from a /metrics page, e.g. `go_goroutines`.
func metricValue(t *testing.T, page, sample string) float64 {
	t.Helper()
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("no sample %s", sample)
	return 0
}

// TestAnonymousStreamsAreEnded: streams that never present a token (30,000 of them once held
// 60,000 goroutines forever) are ended at the first-request deadline, and the goroutines they
// held are given back.
func TestAnonymousStreamsAreEnded(t *testing.T) {
	cp := startBinaryCP(t, "--xds-first-request-timeout", "1s")
	caPEM := cp.cli(t, "ca", "control-plane")
	xdsCAs.Store(cp.xds, []byte(caPEM))
	t.Cleanup(func() { xdsCAs.Delete(cp.xds) })
	before := metricValue(t, cp.metrics(t), "go_goroutines")

	const conns, perConn = 20, 16
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, conns*perConn)
	for range conns {
		ads := discoveryv3.NewAggregatedDiscoveryServiceClient(dialADS(t, cp.xds))
		for range perConn {
			stream, err := ads.StreamAggregatedResources(ctx)
			require.NoError(t, err)
			go func() { _, err := stream.Recv(); errs <- err }()
		}
	}
	require.Eventually(t, func() bool {
		return metricValue(t, cp.metrics(t), "meshgate_xds_streams_unadmitted_ended_total") == conns*perConn
	}, 20*time.Second, 100*time.Millisecond)
	for range conns * perConn {
		assert.Equal(t, codes.DeadlineExceeded, status.Code(<-errs))
	}
	m := cp.metrics(t)
	assert.Zero(t, metricValue(t, m, `meshgate_xds_streams{protocol="sotw"}`))
	// The connections stay (they are idle now, and closed after --xds-idle-connection-timeout);
	// their streams' goroutines are gone.
	assert.Eventually(t, func() bool {
		return metricValue(t, cp.metrics(t), "go_goroutines") < before+4*conns
	}, 10*time.Second, 100*time.Millisecond)
}
