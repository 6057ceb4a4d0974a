package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/postgres"
)

// leaseTTL is short so the test waits seconds, not the default 15 s, and long enough that a
// replica starved of CPU by other tests still renews in time (every second).
const leaseTTL = 3 * time.Second

// TestLeaseFencesPausedLeader: two replicas on one PostgreSQL. The lease holder is paused
// (SIGSTOP) past its lease; the other replica takes the lease over under a new fence and does
// the singleton work (VIP allocation) for a name created meanwhile. When the paused replica
// resumes, it writes nothing: the store's state is as the new leader left it, the lease stays
// with the new leader, and a write under the old fence is refused by the store. It rejoins as
// a follower that serves the new leader's VIPs.
func TestLeaseFencesPausedLeader(t *testing.T) {
	storeURL := haDatabase(t)
	bin := buildBinary(t)
	a := startLeaseReplica(t, bin, storeURL)
	b := startLeaseReplica(t, bin, storeURL)
	defer leaseLogsOnFailure(t, a, b)

	leader, follower := a, b
	if !a.leader(t).Leader {
		leader, follower = b, a
	}
	before := leader.leader(t)
	require.True(t, before.Leader, "neither replica holds the lease: %+v / %+v", a.leader(t), b.leader(t))
	fst := follower.leader(t)
	require.False(t, fst.Leader, "both replicas hold the lease")
	require.Equal(t, before.Replica, fst.Holder, "the follower names another holder")
	require.NotEqual(t, before.Replica, fst.Replica)

	// Each counts the replicas by their own leases: the re-issue rate is shared by two.
	leaseWaitMetric(t, leader, "meshgate_replicas", "2")
	leaseWaitMetric(t, follower, "meshgate_replicas", "2")

	// Singleton work before the pause: the leader allocates, the follower serves the same VIP.
	leader.apply(t, leaseMeshYAML+leaseExternalService("before"))
	vipBefore := leaseSameVIP(t, "before.mesh", a, b)
	t.Logf("before.mesh → %s on both replicas", vipBefore)

	// Pause the leader past its lease.
	require.NoError(t, syscall.Kill(leader.pid, syscall.SIGSTOP))
	paused := time.Now()
	var took leaderDoc
	leaseWait(t, 10*leaseTTL, "the follower to take the lease over from the paused leader", func() bool {
		took = follower.leader(t)
		return took.Leader
	})
	t.Logf("takeover %s after SIGSTOP (TTL %s)", time.Since(paused).Round(10*time.Millisecond), leaseTTL)
	assert.Equal(t, follower.id(t), took.Holder)
	assert.Equal(t, before.Fence+1, took.Fence, "the fence did not move on when the lease changed hands")
	leaseWaitMetric(t, follower, "meshgate_replicas", "1")

	// Singleton work while the old leader is paused: only the new leader can do it.
	follower.apply(t, leaseExternalService("during"))
	vipDuring := leaseVIP(t, follower, "during.mesh", 10*time.Second)
	require.NotEqual(t, vipBefore, vipDuring)

	db := leaseOpenStore(t, storeURL)
	stateBefore := leaseStateRows(t, storeURL)
	require.NoError(t, syscall.Kill(leader.pid, syscall.SIGCONT))
	resumed := leader.logLen()

	// It resumes as a follower: the lease stays with the new leader, and it serves the VIP the
	// new leader allocated while it was paused.
	leaseWait(t, 5*leaseTTL, "the resumed replica to report the new holder", func() bool {
		st, err := leader.leaderDoc()
		return err == nil && !st.Leader && st.Holder == took.Holder && st.Fence == took.Fence
	})
	assert.Equal(t, vipDuring, leaseVIP(t, leader, "during.mesh", 10*time.Second), "the resumed replica serves another VIP")
	leaseWaitMetric(t, follower, "meshgate_replicas", "2")
	// Several renewal periods: time for any write it still had in mind.
	time.Sleep(2 * leaseTTL)

	after := follower.leader(t)
	assert.True(t, after.Leader)
	assert.Equal(t, took.Fence, after.Fence, "the lease changed hands again after the resume")
	assert.False(t, leader.leader(t).Leader)
	assert.Equal(t, stateBefore, leaseStateRows(t, storeURL), "state was written after the paused leader resumed")
	assert.Equal(t, "0", leader.metric(t, `meshgate_lease_held{lease="singleton"}`))
	logs := leader.logSince(resumed)
	assert.Contains(t, logs, "lease lost", "the resumed replica did not notice it lost the lease")
	assert.NotContains(t, logs, "lease acquired", "the resumed replica took the lease back")

	// The store itself refuses the old fence: a write the paused leader might have been about
	// to commit when it was stopped cannot land.
	_, err := db.PutStatesFenced(context.Background(), store.Fence{Name: "singleton", Holder: before.Replica, Token: before.Fence},
		[]store.StateWrite{{Key: "crossmesh/vips", Value: []byte(`{}`)}})
	require.ErrorIs(t, err, store.ErrFenced)

	// The new leader keeps allocating, the old one serves it.
	follower.apply(t, leaseExternalService("after"))
	vipAfter := leaseSameVIP(t, "after.mesh", a, b)
	assert.NotContains(t, []string{vipBefore, vipDuring}, vipAfter)
	assert.Equal(t, "1", follower.metric(t, `meshgate_lease_held{lease="singleton"}`))
}

const leaseMeshYAML = "type: Mesh\nname: default\n---\n"

func leaseExternalService(name string) string {
	return fmt.Sprintf("type: ExternalService\nmesh: default\nname: %[1]s\ntags: {kuma.io/service: %[1]s}\nnetworking: {address: \"%[1]s.example.com:443\"}\n---\n", name)
}

// leaseReplica is one `meshgate run` on the shared database.
type leaseReplica struct {
	bin, api, diag, dns string
	pid                 int
	mu                  sync.Mutex
	log                 bytes.Buffer
}

var leaseRunningLine = regexp.MustCompile(`msg="meshgate running" xds=(\S+) api=(\S+) diagnostics=(\S+) dns=(\S+)`)

func startLeaseReplica(t *testing.T, bin, storeURL string) *leaseReplica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "run", "--store", storeURL, "--data-dir", t.TempDir(),
		"--xds-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--diag-address", "127.0.0.1:0",
		"--dns-address", "127.0.0.1:0", "--dns-forward=false", "--api-tls-address", "",
		"--lease-ttl", leaseTTL.String())
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &leaseReplica{bin: bin, pid: cmd.Process.Pid}
	t.Cleanup(func() {
		// A paused process cannot act on SIGINT: resume it first.
		_ = syscall.Kill(r.pid, syscall.SIGCONT)
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	addrs := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.log.WriteString(line + "\n")
			r.mu.Unlock()
			if m := leaseRunningLine.FindStringSubmatch(line); m != nil && !sent {
				addrs <- m[1:]
				sent = true
			}
		}
		if !sent {
			close(addrs)
		}
	}()
	select {
	case m, ok := <-addrs:
		require.True(t, ok, "replica exited before logging its addresses:\n%s", r.logSince(0))
		r.api, r.diag, r.dns = m[1], m[2], m[3]
	case <-time.After(30 * time.Second):
		t.Fatalf("replica never logged its addresses:\n%s", r.logSince(0))
	}
	leaseWait(t, 30*time.Second, "the replica to be ready", func() bool {
		resp, err := http.Get("http://" + r.diag + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

func (r *leaseReplica) logLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Len()
}

func (r *leaseReplica) logSince(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()[n:]
}

// leaderDoc is GET /leader.
type leaderDoc struct {
	Replica string    `json:"replica"`
	Leader  bool      `json:"leader"`
	Holder  string    `json:"holder"`
	Fence   int64     `json:"fence"`
	Expires time.Time `json:"expires"`
	Expired bool      `json:"expired"`
	Error   string    `json:"error"`
}

func (r *leaseReplica) leaderDoc() (leaderDoc, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + r.diag + "/leader")
	if err != nil {
		return leaderDoc{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return leaderDoc{}, fmt.Errorf("GET /leader: %s", resp.Status)
	}
	var d leaderDoc
	return d, json.NewDecoder(resp.Body).Decode(&d)
}

func (r *leaseReplica) leader(t *testing.T) leaderDoc {
	t.Helper()
	d, err := r.leaderDoc()
	require.NoError(t, err)
	return d
}

func (r *leaseReplica) id(t *testing.T) string { return r.leader(t).Replica }

func (r *leaseReplica) metric(t *testing.T, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + r.diag + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	t.Fatalf("no series %s in /metrics", series)
	return ""
}

func (r *leaseReplica) apply(t *testing.T, yaml string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "res.yaml")
	require.NoError(t, os.WriteFile(f, []byte(yaml), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, "apply", "-f", f)
	cmd.Env = append(os.Environ(), "MESHGATE_API_ADDRESS=http://"+r.api)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "meshgate apply: %s", out)
}

// lookup asks the replica's DNS server for name's A record; "" when it has none.
func (r *leaseReplica) lookup(name string) (string, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), mdns.TypeA)
	c := mdns.Client{Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, r.dns)
	if err != nil {
		return "", err
	}
	for _, rr := range resp.Answer {
		if a, ok := rr.(*mdns.A); ok {
			return a.A.String(), nil
		}
	}
	return "", nil
}

// leaseVIP waits until r answers name with an address, and returns it.
func leaseVIP(t *testing.T, r *leaseReplica, name string, within time.Duration) string {
	t.Helper()
	var ip string
	leaseWait(t, within, "DNS on "+r.dns+" to answer "+name, func() bool {
		var err error
		ip, err = r.lookup(name)
		return err == nil && ip != ""
	})
	return ip
}

// leaseSameVIP waits until every replica answers name, and requires one address.
func leaseSameVIP(t *testing.T, name string, rs ...*leaseReplica) string {
	t.Helper()
	var ips []string
	for _, r := range rs {
		ips = append(ips, leaseVIP(t, r, name, 15*time.Second))
	}
	for _, ip := range ips[1:] {
		require.Equal(t, ips[0], ip, "replicas answer %s differently: %v", name, ips)
	}
	return ips[0]
}

// leaseWaitMetric waits until r's /metrics has series at value.
func leaseWaitMetric(t *testing.T, r *leaseReplica, series, value string) {
	t.Helper()
	var got string
	leaseWait(t, 5*leaseTTL, series+" = "+value+" on "+r.diag, func() bool {
		got = r.metric(t, series)
		return got == value
	})
}

func leaseWait(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func leaseLogsOnFailure(t *testing.T, rs ...*leaseReplica) {
	if !t.Failed() {
		return
	}
	for i, r := range rs {
		log := r.logSince(0)
		if len(log) > 8000 {
			log = log[len(log)-8000:]
		}
		t.Logf("replica %d log (tail):\n%s", i, log)
	}
}

func leaseOpenStore(t *testing.T, storeURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), storeURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// leaseStateRows is every state entry's version, and the lease row, as the database has them.
func leaseStateRows(t *testing.T, storeURL string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, storeURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	out := map[string]string{}
	rows, err := conn.Query(ctx, `SELECT key, version FROM state`)
	require.NoError(t, err)
	for rows.Next() {
		var (
			key     string
			version int64
		)
		require.NoError(t, rows.Scan(&key, &version))
		out["state "+key] = fmt.Sprint(version)
	}
	require.NoError(t, rows.Err())
	var (
		holder string
		fence  int64
	)
	require.NoError(t, conn.QueryRow(ctx, `SELECT holder, fence FROM leases WHERE name = 'singleton'`).Scan(&holder, &fence))
	out["lease singleton"] = fmt.Sprintf("%s@%d", holder, fence)
	return out
}
