package identity

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
)

// noJitter makes schedules exact: every stale leaf is due settle after the switch.
func noJitter(rate float64, burst int) RotationOptions {
	return RotationOptions{Rate: rate, Burst: burst, Settle: 10 * time.Second, Tick: time.Second}
}

// TestSwitchKeepsOldLeavesAndRateLimitsReissue: after enabledBackend changes, the bundle holds
// both roots at once, old and new leaves both verify against it (go-spiffe and openssl), and
// leaves move to the new backend no faster than the rate limit allows.
func TestSwitchKeepsOldLeavesAndRateLimitsReissue(t *testing.T) {
	clk := newFakeClock()
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), noJitter(2, 2), clk)
	before := rebuild(t, ids, rotMesh(5, "ca-1", "ca-1", "ca-2"))
	switched := rotMesh(5, "ca-2", "ca-1", "ca-2")
	old, next := backendRootFP(t, ids, switched, "ca-1"), backendRootFP(t, ids, switched, "ca-2")
	for _, id := range before.ids {
		require.Equal(t, old, issuerRoot(t, id))
	}

	// The switch itself re-issues nothing: every dataplane keeps its leaf and learns the bundle.
	after := rebuild(t, ids, switched)
	for name, id := range after.ids {
		assert.Equal(t, before.ids[name].CertificateChain, id.CertificateChain, name)
		assert.Equal(t, map[string]bool{old: true, next: true}, rootsOf(t, id))
	}
	assert.Equal(t, clk.Now().Add(10*time.Second), after.wake, "wake when re-issues are due")

	// Settled: the bucket (2 per second, burst 2) lets two leaves move per second.
	clk.Advance(10 * time.Second)
	counts := []int{}
	var last rebuilt
	for round := range 3 {
		last = rebuild(t, ids, switched)
		moved := 0
		for _, id := range last.ids {
			if issuerRoot(t, id) == next {
				moved++
			}
		}
		counts = append(counts, moved)
		if round < 2 {
			assert.Equal(t, clk.Now().Add(time.Second), last.wake, "next batch when the bucket is full again")
		}
		clk.Advance(time.Second)
	}
	assert.Equal(t, []int{2, 4, 5}, counts)

	// Mid-rotation (after the first batch), both kinds of leaf verify against one bundle.
	mid := rebuild(t, ids, switched)
	bundle := mid.ids["dp-0"].TrustBundle
	var sawOld, sawNew bool
	for _, id := range after.ids {
		verifyWith(t, id, bundle, clk.Now())
		sawOld = true
	}
	for _, id := range mid.ids {
		verifyWith(t, id, bundle, clk.Now())
		sawNew = sawNew || issuerRoot(t, id) == next
	}
	assert.True(t, sawOld && sawNew)
}

// TestJitterSpreadsReissues: with a jitter window, re-issue times spread over it, rounded to
// the tick, and never before the settle time.
func TestJitterSpreadsReissues(t *testing.T) {
	clk := newFakeClock()
	opts := RotationOptions{Rate: 0, Settle: 10 * time.Second, Jitter: time.Minute, Tick: time.Second}
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), opts, clk)
	rebuild(t, ids, rotMesh(50, "ca-1", "ca-1", "ca-2"))
	start := clk.Now()
	rebuild(t, ids, rotMesh(50, "ca-2", "ca-1", "ca-2"))
	distinct := map[time.Time]bool{}
	for _, c := range ids.byNode {
		d := c.reissueAt.Sub(start)
		assert.GreaterOrEqual(t, d, 10*time.Second)
		assert.LessOrEqual(t, d, 70*time.Second)
		assert.Zero(t, d%time.Second, "rounded to the tick")
		distinct[c.reissueAt] = true
	}
	assert.Greater(t, len(distinct), 5, "50 dataplanes are not re-issued in lockstep")
}

// TestRenewalContinuesDuringRotation: a leaf due for renewal is renewed at once, from the new
// backend, whatever the rate limit says.
func TestRenewalContinuesDuringRotation(t *testing.T) {
	clk := newFakeClock()
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), noJitter(0.001, 1), clk)
	rebuild(t, ids, rotMesh(3, "ca-1", "ca-1", "ca-2"))
	switched := rotMesh(3, "ca-2", "ca-1", "ca-2")
	rebuild(t, ids, switched)
	clk.Advance(20 * time.Hour) // past 80 % of 24 h
	out := rebuild(t, ids, switched)
	next := backendRootFP(t, ids, switched, "ca-2")
	for name, id := range out.ids {
		assert.Equal(t, next, issuerRoot(t, id), name)
	}
}

// TestRemovedBackendRetiresUntilLastLeafReplaced: removing the old backend in the same change
// that enables the new one keeps its root in the bundle (and in the store) until its last
// leaf has been replaced and the replacement had time to arrive.
func TestRemovedBackendRetiresUntilLastLeafReplaced(t *testing.T) {
	clk := newFakeClock()
	st := openTestStore(t, t.TempDir())
	ids := newTestIdentities(t, st, noJitter(1, 1), clk)
	first := rotMesh(3, "ca-1", "ca-1")
	rebuild(t, ids, first)
	old := backendRootFP(t, ids, first, "ca-1")
	switched := rotMesh(3, "ca-2", "ca-2")
	next := backendRootFP(t, ids, switched, "ca-2")

	out := rebuild(t, ids, switched)
	assert.Equal(t, map[string]bool{old: true, next: true}, rootsOf(t, out.ids["dp-0"]))
	stored, _, err := ids.rot.ca.LoadRetiring(context.Background(), "default")
	require.NoError(t, err)
	require.Len(t, stored, 1)
	assert.Equal(t, old, ca.Fingerprint(stored[0].Cert))
	assert.Equal(t, "ca-1", stored[0].Backend)

	// One leaf per second moves; while any old leaf is left, the old root stays.
	clk.Advance(10 * time.Second)
	for range 3 {
		out = rebuild(t, ids, switched)
		assert.True(t, rootsOf(t, out.ids["dp-0"])[old], "old root dropped while its leaves live")
		clk.Advance(time.Second)
	}
	for _, id := range out.ids {
		require.Equal(t, next, issuerRoot(t, id))
	}
	// No old leaf is left, but the last replacement gets the settle time to arrive.
	out = rebuild(t, ids, switched)
	assert.True(t, rootsOf(t, out.ids["dp-0"])[old])
	assert.False(t, out.wake.After(clk.Now().Add(10*time.Second)), "wake when the old root is due to go")
	clk.Advance(10 * time.Second)
	out = rebuild(t, ids, switched)
	assert.Equal(t, map[string]bool{next: true}, rootsOf(t, out.ids["dp-0"]))
	stored, _, err = ids.rot.ca.LoadRetiring(context.Background(), "default")
	require.NoError(t, err)
	assert.Empty(t, stored)
}

// TestKeptBackendRootStaysWhileListed: an old backend still listed after the switch is not
// retiring: its root stays because the Mesh lists it, with nothing stored.
func TestKeptBackendRootStaysWhileListed(t *testing.T) {
	clk := newFakeClock()
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), noJitter(0, 1), clk)
	rebuild(t, ids, rotMesh(2, "ca-1", "ca-1", "ca-2"))
	switched := rotMesh(2, "ca-2", "ca-1", "ca-2")
	rebuild(t, ids, switched)
	clk.Advance(time.Minute)
	out := rebuild(t, ids, switched)
	assert.Len(t, rootsOf(t, out.ids["dp-0"]), 2)
	stored, _, err := ids.rot.ca.LoadRetiring(context.Background(), "default")
	require.NoError(t, err)
	assert.Empty(t, stored)
}

// TestRestartKeepsRetiringRoot: a new process on the same store, which cannot know which
// leaves the previous one handed out, keeps trusting the retiring root until the last of them
// expires.
func TestRestartKeepsRetiringRoot(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	st := openTestStore(t, dir)
	ids := newTestIdentities(t, st, noJitter(0, 1), clk)
	first := rotMesh(2, "ca-1", "ca-1")
	before := rebuild(t, ids, first)
	old := backendRootFP(t, ids, first, "ca-1")
	switched := rotMesh(2, "ca-2", "ca-2")
	rebuild(t, ids, switched)

	restarted := newTestIdentities(t, st, noJitter(0, 1), clk)
	out := rebuild(t, restarted, switched)
	assert.True(t, rootsOf(t, out.ids["dp-0"])[old], "restart forgot the retiring root")
	for _, id := range before.ids {
		verifyWith(t, id, out.ids["dp-0"].TrustBundle, clk.Now())
	}
	status, err := restarted.Status(context.Background(), switched)
	require.NoError(t, err)
	require.Len(t, status.Roots, 2)
	assert.Equal(t, "retiring", status.Roots[1].Backend)
	assert.Equal(t, "ca-1", status.Roots[1].RetiredFrom)
	require.NotNil(t, status.Roots[1].DropAt)
	notAfter := chainOf(t, before.ids["dp-0"])[0].NotAfter
	assert.WithinDuration(t, notAfter, *status.Roots[1].DropAt, time.Second)
	assert.False(t, out.wake.After(notAfter), "wake by the time the old leaves expire")

	clk.Advance(notAfter.Sub(clk.Now()) + time.Second)
	out = rebuild(t, restarted, switched)
	assert.False(t, rootsOf(t, out.ids["dp-0"])[old], "root kept after every leaf from it expired")
}

// TestCAStatusShowsProgress: the API's view counts leaves per backend and pending re-issues.
func TestCAStatusShowsProgress(t *testing.T) {
	clk := newFakeClock()
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), noJitter(1, 1), clk)
	rebuild(t, ids, rotMesh(3, "ca-1", "ca-1"))
	switched := rotMesh(3, "ca-2", "ca-2")
	rebuild(t, ids, switched)
	clk.Advance(10 * time.Second)
	rebuild(t, ids, switched)

	st, err := ids.Status(context.Background(), switched)
	require.NoError(t, err)
	assert.Equal(t, "ca-2", st.EnabledBackend)
	assert.Equal(t, map[string]int{"ca-1": 2, "ca-2": 1}, st.Rotation.LeavesByBackend)
	assert.Equal(t, 2, st.Rotation.PendingReissues)
	assert.False(t, st.Rotation.Complete)
	require.Len(t, st.Roots, 2)
	assert.True(t, st.Roots[0].Enabled)
	assert.Equal(t, 1, st.Roots[0].Leaves)
	assert.Equal(t, "retiring", st.Roots[1].Backend)
	assert.Equal(t, 2, st.Roots[1].Leaves)
	assert.Len(t, st.Roots[1].SHA256, 64)
	require.NotNil(t, st.Rotation.RetiringDroppedBy)
	assert.True(t, st.Rotation.RetiringDroppedBy.After(clk.Now()))
}

func TestAlignRenewalBatchesAFleet(t *testing.T) {
	base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	seen := map[time.Time]bool{}
	for i := 0; i < 1000; i++ {
		issued := base.Add(time.Duration(i) * 7 * time.Second) // scattered over ~2 hours
		notAfter := issued.Add(24 * time.Hour)
		renew := issued.Add(24 * time.Hour * 4 / 5)
		got := alignRenewal(renew, issued, notAfter)
		assert.False(t, got.After(renew), "never later than 80 %% of the life")
		assert.Less(t, renew.Sub(got), renewalGrid, "at most one grid step early")
		seen[got] = true
	}
	assert.LessOrEqual(t, len(seen), 25, "1,000 leaves issued over 2 h renew in a handful of batches")
	// Short-lived leaves keep a proportionally fine grid.
	issued := base.Add(123 * time.Millisecond)
	got := alignRenewal(issued.Add(2400*time.Millisecond), issued, issued.Add(3*time.Second))
	assert.True(t, got.After(issued.Add(2*time.Second)), got.Sub(issued))
}
