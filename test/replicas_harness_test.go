package test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// haPostgres is the server the replica tests create their databases on, read as the store
// tests read it (store/postgres/postgres_test.go): a missing server fails the test unless
// MESHGATE_SKIP_POSTGRES=1, so CI cannot pass without having run it.
func haPostgres(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("MESHGATE_TEST_POSTGRES"); u != "" {
		return u
	}
	if os.Getenv("MESHGATE_SKIP_POSTGRES") == "1" {
		t.Skip("MESHGATE_SKIP_POSTGRES=1: PostgreSQL tests skipped")
	}
	t.Fatal("MESHGATE_TEST_POSTGRES is not set. Start a throwaway PostgreSQL with\n" +
		"\texport MESHGATE_TEST_POSTGRES=$(.ci/postgres.sh start)\n" +
		"(stop it with .ci/postgres.sh stop), or set MESHGATE_SKIP_POSTGRES=1 to skip these tests.")
	return ""
}

// haDatabase creates an empty database with a random name for t, drops it when t ends, and
// returns its URL for `meshgate run --store`.
func haDatabase(t *testing.T) string {
	t.Helper()
	admin := haPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err, "connect to MESHGATE_TEST_POSTGRES")
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "meshgate_ha_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()
	_, err = conn.Exec(ctx, `CREATE DATABASE `+ident)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// haRunningLine is the start-up log line with every address a replica bound.
var haRunningLine = regexp.MustCompile(`msg="meshgate running" xds=(\S+) api=(\S+) diagnostics=(\S+) dns=(\S+)`)

// haReplica is one `meshgate run` process of a replica set on one PostgreSQL.
type haReplica struct {
	name                string
	xds, api, diag, dns string
	cmd                 *exec.Cmd
	logFile             string
	exited              chan struct{}
}

// startHAReplicas starts n replicas of the built binary on one store at once (so they race to
// create what the store does not hold yet: the control-plane CA, token keys) and waits until
// each has logged its addresses and is ready. Every process is stopped when t ends, whatever
// happened to it before.
func startHAReplicas(t *testing.T, bin, storeURL string, n int, extra ...string) []*haReplica {
	t.Helper()
	out := make([]*haReplica, n)
	running := make([]chan []string, n)
	for i := range out {
		r := &haReplica{name: fmt.Sprintf("replica-%d", i+1), logFile: filepath.Join(t.TempDir(), "meshgate.log"), exited: make(chan struct{})}
		args := append([]string{"run", "--store", storeURL,
			"--xds-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--diag-address", "127.0.0.1:0",
			"--dns-address", "127.0.0.1:0", "--dns-forward=false", "--api-tls-address", "", "--debounce", "20ms"}, extra...)
		r.cmd = exec.Command(bin, args...)
		stderr, err := r.cmd.StderrPipe()
		require.NoError(t, err)
		logf, err := os.Create(r.logFile)
		require.NoError(t, err)
		require.NoError(t, r.cmd.Start())
		running[i] = make(chan []string, 1)
		go r.copyLog(stderr, logf, running[i])
		go func() { _ = r.cmd.Wait(); close(r.exited) }()
		t.Cleanup(r.stop)
		out[i] = r
	}
	for i, r := range out {
		select {
		case m := <-running[i]:
			r.xds, r.api, r.diag, r.dns = m[1], m[2], m[3], m[4]
		case <-r.exited:
			t.Fatalf("%s exited before it was running:\n%s", r.name, r.logTail())
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not log its addresses within 30s:\n%s", r.name, r.logTail())
		}
	}
	for _, r := range out {
		require.Eventually(t, func() bool { return r.ready() == http.StatusOK }, 30*time.Second, 50*time.Millisecond,
			"%s not ready within 30s:\n%s", r.name, r.logTail())
	}
	return out
}

// copyLog keeps the replica's log in a file (read back when a test fails) and reports the
// running line.
func (r *haReplica) copyLog(stderr io.Reader, logf *os.File, running chan<- []string) {
	defer logf.Close()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	for sc.Scan() {
		line := sc.Text()
		_, _ = logf.WriteString(line + "\n")
		if !found {
			if m := haRunningLine.FindStringSubmatch(line); m != nil {
				found = true
				running <- m
			}
		}
	}
	_, _ = io.Copy(logf, stderr)
}

func (r *haReplica) ready() int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.diag + "/ready")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// kill is `kill -9`: no shutdown, no goodbye to the store or the streams.
func (r *haReplica) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10s after SIGKILL", r.name)
	}
}

// stop ends the process: an interrupt for a clean shutdown, SIGKILL if it takes longer than
// 15s; a process already gone is left alone.
func (r *haReplica) stop() {
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// logTail is the end of the replica's log, for failure messages.
func (r *haReplica) logTail() string {
	raw, _ := os.ReadFile(r.logFile)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return r.name + " log:\n" + strings.Join(lines, "\n")
}

// haHTTP is the client of the replicas' APIs: bounded, and with enough idle connections for
// the writers.
var haHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// call sends one API request to the replica; a transport error is returned, not fatal, as
// callers run on goroutines and a replica may be gone.
func (r *haReplica) call(method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, "http://"+r.api+path, strings.NewReader(string(body)))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := haHTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// mustCall is call for the test goroutine.
func (r *haReplica) mustCall(t *testing.T, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	code, out, err := r.call(method, path, contentType, body)
	require.NoError(t, err, "%s %s on %s", method, path, r.name)
	return code, out
}

// haLogsOnFailure prints every replica's log tail when t fails.
func haLogsOnFailure(t *testing.T, rs []*haReplica) {
	var once sync.Once
	t.Cleanup(func() {
		if t.Failed() {
			once.Do(func() {
				for _, r := range rs {
					t.Log(r.logTail())
				}
			})
		}
	})
}
