package scale

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshgate/meshgate/api/client"
)

// binEnv names a prebuilt meshgate binary to measure instead of building ./cmd/meshgate, e.g.
// one built from an older commit to compare against.
const binEnv = "MESHGATE_SCALE_BIN"

var (
	buildOnce sync.Once
	builtDir  string
	builtBin  string
	buildErr  error
)

// meshgateBinary builds ./cmd/meshgate once per test process (or returns $MESHGATE_SCALE_BIN).
func meshgateBinary(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv(binEnv); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "meshgate-scale-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(builtDir, "meshgate")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", builtBin, "github.com/meshgate/meshgate/cmd/meshgate").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/meshgate: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtBin
}

// describeBinary says which meshgate runs: $MESHGATE_SCALE_BIN, or the working tree's commit
// (with "-dirty" when it has uncommitted changes).
func describeBinary() string {
	if bin := os.Getenv(binEnv); bin != "" {
		return bin + " (" + binEnv + ")"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "./cmd/meshgate of this working tree (no git: " + err.Error() + ")"
	}
	return "./cmd/meshgate at " + strings.TrimSpace(string(out))
}

func cleanupBinary() error {
	if builtDir == "" {
		return nil
	}
	return os.RemoveAll(builtDir)
}

// cpOptions are the scenario-dependent flags of `meshgate run`.
type cpOptions struct {
	// extraArgs are appended to the command line (e.g. limits).
	extraArgs []string
}

// meshgateProc is one `meshgate run` child process.
type meshgateProc struct {
	cmd     *exec.Cmd
	pid     int
	xds     string
	api     string
	diag    string
	client  *client.Client
	logs    *logTail
	exited  chan struct{}
	exitErr error
	stopped bool
}

// startMeshgate starts `meshgate run` on loopback with an empty store and waits until /ready
// answers. Every address is port 0; the bound ones are read from the start-up log line.
// xDS is plain text (--xds-insecure) and unauthenticated (--xds-auth none): the benchmark
// measures configuration work, not TLS handshakes or token checks, and runs on loopback only.
func startMeshgate(tb testing.TB, opts cpOptions) *meshgateProc {
	tb.Helper()
	bin := meshgateBinary(tb)
	args := []string{
		"run", "--data-dir", filepath.Join(tb.TempDir(), "data"),
		"--xds-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--api-tls-address", "",
		"--diag-address", "127.0.0.1:0", "--dns-address", "127.0.0.1:0", "--dns-forward=false",
		"--xds-auth", "none", "--xds-insecure", "--log-format", "json", "--log-level", "info",
	}
	args = append(args, opts.extraArgs...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", bin, err)
	}
	p := &meshgateProc{cmd: cmd, pid: cmd.Process.Pid, logs: newLogTail(40), exited: make(chan struct{})}
	running := make(chan map[string]any, 1)
	go p.logs.read(stderr, "meshgate running", running)
	go func() { p.exitErr = cmd.Wait(); close(p.exited) }()
	tb.Cleanup(p.stop)

	select {
	case line := <-running:
		p.xds, _ = line["xds"].(string)
		p.api, _ = line["api"].(string)
		p.diag, _ = line["diagnostics"].(string)
	case <-p.exited:
		tb.Fatalf("meshgate exited before serving: %v\n%s", p.exitErr, p.logs)
	case <-time.After(30 * time.Second):
		tb.Fatalf("meshgate did not log \"meshgate running\" within 30s\n%s", p.logs)
	}
	if p.xds == "" || p.api == "" || p.diag == "" {
		tb.Fatalf("meshgate's start-up line lacks an address: xds=%q api=%q diagnostics=%q", p.xds, p.api, p.diag)
	}
	if p.client, err = client.New("http://"+p.api, ""); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.diag + "/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("meshgate not ready within 30s (last: %v)\n%s", err, p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the process: SIGTERM, then SIGKILL if it has not exited within 15 s.
func (p *meshgateProc) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// alive fails if the process has exited.
func (p *meshgateProc) alive(tb testing.TB) {
	tb.Helper()
	select {
	case <-p.exited:
		tb.Fatalf("meshgate exited: %v\n%s", p.exitErr, p.logs)
	default:
	}
}

// apply sends a multi-document YAML body to POST /apply.
func (p *meshgateProc) apply(tb testing.TB, body []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := p.client.Apply(ctx, body); err != nil {
		tb.Fatalf("apply (%d bytes): %v", len(body), err)
	}
}

// put replaces one resource: PUT path with a YAML body, as `curl -X PUT` would.
func (p *meshgateProc) put(tb testing.TB, path, body string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+p.api+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		tb.Fatalf("PUT %s: %s: %s", path, resp.Status, out)
	}
}

// logTail keeps the last lines of the child's log for failure messages.
type logTail struct {
	mu    sync.Mutex
	lines []string
	max   int
	total int
}

func newLogTail(max int) *logTail { return &logTail{max: max} }

// read consumes r line by line; the first JSON line whose msg is want is sent on found (when
// not nil).
func (l *logTail) read(r io.Reader, want string, found chan<- map[string]any) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		if found != nil && !sent && bytes.Contains(line, []byte(want)) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err == nil && m["msg"] == want {
				found <- m
				sent = true
			}
		}
		l.mu.Lock()
		l.total++
		l.lines = append(l.lines, string(line))
		if len(l.lines) > l.max {
			l.lines = l.lines[1:]
		}
		l.mu.Unlock()
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		l.mu.Lock()
		l.lines = append(l.lines, "(reading the log: "+err.Error()+")")
		l.mu.Unlock()
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("last %d of %d meshgate log lines:\n%s", len(l.lines), l.total, strings.Join(l.lines, "\n"))
}
