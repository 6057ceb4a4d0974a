package controlplane

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

func leaseTestStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newTestLeaseRunner(t *testing.T, l store.Leaser, ttl time.Duration) *leaseRunner {
	t.Helper()
	r, err := newLeaseRunner(l, ttl, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return r
}

// One runner leads, the other follows; when the leader stops renewing, the follower takes
// over under a new fence, and the old leader's fence is refused by the store.
func TestLeaseRunnerTakeover(t *testing.T) {
	ctx := context.Background()
	st := leaseTestStore(t)
	const ttl = 400 * time.Millisecond
	a, b := newTestLeaseRunner(t, st, ttl), newTestLeaseRunner(t, st, ttl)
	require.NotEqual(t, a.id, b.id)

	a.step(ctx)
	b.step(ctx)
	fa, ok := a.Leader()
	require.True(t, ok, "the first runner did not take a free lease")
	_, ok = b.Leader()
	require.False(t, ok)
	assert.Equal(t, 1.0, testutil.ToFloat64(a.held))
	assert.Equal(t, 0.0, testutil.ToFloat64(b.held))
	select {
	case <-a.gained:
	default:
		t.Fatal("becoming the leader was not signalled")
	}

	// a is paused: it does not renew. b takes over once the lease has expired.
	deadline := time.Now().Add(10 * ttl)
	for {
		b.step(ctx)
		if b.IsLeader() {
			break
		}
		require.True(t, time.Now().Before(deadline), "the follower did not take over an expired lease")
		time.Sleep(ttl / 8)
	}
	fb, _ := b.Leader()
	assert.Equal(t, fa.Token+1, fb.Token)
	assert.False(t, a.IsLeader(), "a believes it leads past its own deadline")
	assert.Equal(t, float64(fb.Token), testutil.ToFloat64(b.fence))

	// Even a fence a paused leader still believes in is refused by the store.
	_, err := st.PutStatesFenced(ctx, fa, []store.StateWrite{{Key: "k", Value: []byte("a")}})
	require.ErrorIs(t, err, store.ErrFenced)
	_, err = store.NewFenced(st, st, a.Leader).PutState(ctx, "k", []byte("a"), 0)
	require.ErrorIs(t, err, store.ErrFenced)

	// a resumes: it follows.
	a.step(ctx)
	assert.False(t, a.IsLeader())
	assert.Equal(t, 0.0, testutil.ToFloat64(a.held))

	// Each counts the replicas alive by their own leases: both, until b releases its own.
	assert.Equal(t, 2.0, testutil.ToFloat64(a.replicas))
	var shared []int
	a.onReplicas = func(n int) { shared = append(shared, n) }

	// b shuts down and releases: a takes the lease at its next renewal, not a TTL later.
	runCtx, stop := context.WithCancel(ctx)
	stop()
	require.NoError(t, b.run(runCtx))
	a.step(ctx)
	assert.True(t, a.IsLeader())
	assert.Equal(t, []int{1}, shared, "the re-issue rate was not handed back to the one replica left")
}

// A follower serves the VIPs the leader allocated, and asks for a rebuild when the leader has
// allocated what it was waiting for.
func TestFollowerServesLeaderVIPs(t *testing.T) {
	ctx := context.Background()
	st := leaseTestStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DNSConfig{Address: "127.0.0.1:0", TTL: 30 * time.Second, DefaultMesh: "default", VIPCIDR: "240.0.0.0/4"}
	replica := func() (*meshDNS, *leaseRunner) {
		d, err := newMeshDNS(cfg, st, nil, log)
		require.NoError(t, err)
		r := newTestLeaseRunner(t, st, time.Minute)
		require.NoError(t, d.useLease(r, store.NewFenced(st, st, r.Leader)))
		return d, r
	}
	leader, lr := replica()
	follower, fr := replica()
	lr.step(ctx)
	fr.step(ctx)
	require.True(t, lr.IsLeader())
	require.False(t, fr.IsLeader())

	keys := []vip.Key{{Name: "web.mesh"}, {Mesh: "default", Name: "api.mesh"}}
	got, err := follower.syncVIPs(ctx, keys)
	require.NoError(t, err)
	assert.Empty(t, got, "a follower allocated")
	_, _, err = st.GetState(ctx, vip.StateKey)
	require.ErrorIs(t, err, store.ErrNotFound, "a follower wrote VIPs")

	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() { follower.followVIPs(followCtx, nil, 10*time.Millisecond); close(done) }()
	defer func() { stop(); <-done }()

	want, err := leader.syncVIPs(ctx, keys)
	require.NoError(t, err)
	require.Len(t, want, 2)
	select {
	case <-follower.pokes:
	case <-time.After(5 * time.Second):
		t.Fatal("the follower did not ask for a rebuild after the leader allocated its VIPs")
	}
	got, err = follower.syncVIPs(ctx, keys)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.False(t, follower.waiting.Load())
}

// A lease TTL the runner cannot renew in time is refused at start, naming the flag.
func TestLeaseTTLTooShortIsRefused(t *testing.T) {
	for _, ttl := range []time.Duration{-time.Second, 100 * time.Millisecond} {
		_, err := newLeaseRunner(nil, ttl, prometheus.NewRegistry(), quietLogger())
		require.ErrorContains(t, err, "--lease-ttl", ttl.String())
	}
}
