package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// RunLease runs the lease contract (store.Leaser) against the stores that open returns.
func RunLease(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Leaser, store.Store)
	}{
		{"AcquireRenew", testLeaseAcquireRenew},
		{"TakeoverAfterExpiry", testLeaseTakeover},
		{"FencedWrite", testLeaseFencedWrite},
		{"Release", testLeaseRelease},
		{"Race", testLeaseRace},
		{"Invalid", testLeaseInvalid},
		{"Count", testLeaseCount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			l, ok := s.(store.Leaser)
			require.True(t, ok, "%T does not implement store.Leaser", s)
			tc.fn(t, l, s)
		})
	}
}

func acquire(t *testing.T, l store.Leaser, holder string, ttl time.Duration) store.Lease {
	t.Helper()
	lease, err := l.AcquireLease(ctxFor(t), store.LeaseRequest{Name: "singleton", Holder: holder, TTL: ttl})
	require.NoError(t, err)
	require.Equal(t, "singleton", lease.Name)
	return lease
}

func testLeaseAcquireRenew(t *testing.T, l store.Leaser, _ store.Store) {
	_, err := l.GetLease(ctxFor(t), "singleton")
	require.ErrorIs(t, err, store.ErrNotFound)

	a := acquire(t, l, "a", time.Minute)
	assert.True(t, a.Held("a"))
	assert.Equal(t, int64(1), a.Fence)
	assert.WithinDuration(t, a.Now.Add(time.Minute), a.Expires, 5*time.Second)

	b := acquire(t, l, "b", time.Minute)
	assert.False(t, b.Held("b"), "b took a live lease")
	assert.Equal(t, "a", b.Holder)
	assert.Equal(t, a.Fence, b.Fence)

	again := acquire(t, l, "a", 2*time.Minute)
	assert.True(t, again.Held("a"))
	assert.Equal(t, a.Fence, again.Fence, "a renewal in time keeps the fence")
	assert.True(t, again.Expires.After(a.Expires), "renewal extends the lease")

	got, err := l.GetLease(ctxFor(t), "singleton")
	require.NoError(t, err)
	assert.Equal(t, "a", got.Holder)
	assert.Equal(t, again.Fence, got.Fence)
}

func testLeaseTakeover(t *testing.T, l store.Leaser, _ store.Store) {
	a := acquire(t, l, "a", 300*time.Millisecond)
	require.True(t, a.Held("a"))
	takenBy := waitTaken(t, l, "b", a.Fence)
	assert.Equal(t, a.Fence+1, takenBy.Fence, "a change of hands moves the fence on")

	// a comes back: the lease is b's.
	back := acquire(t, l, "a", time.Minute)
	assert.False(t, back.Held("a"))
	assert.Equal(t, "b", back.Holder)

	// A holder that let its own lease lapse gets a new fence: writes under the old one may
	// have been refused meanwhile, and must stay refused.
	c := acquire(t, l, "b", 200*time.Millisecond)
	require.True(t, c.Held("b"))
	time.Sleep(400 * time.Millisecond)
	d := acquire(t, l, "b", time.Minute)
	require.True(t, d.Held("b"))
	assert.Equal(t, c.Fence+1, d.Fence)
}

// waitTaken retries holder's acquisition until the lease (held at fence) expires and holder
// gets it.
func waitTaken(t *testing.T, l store.Leaser, holder string, fence int64) store.Lease {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		got := acquire(t, l, holder, time.Minute)
		if got.Held(holder) {
			return got
		}
		require.Equal(t, fence, got.Fence, "fence moved while the lease was not free")
		require.True(t, time.Now().Before(deadline), "%s did not get the expired lease within %s", holder, waitFor)
		time.Sleep(50 * time.Millisecond)
	}
}

func testLeaseFencedWrite(t *testing.T, l store.Leaser, s store.Store) {
	ctx := ctxFor(t)
	a := acquire(t, l, "a", 300*time.Millisecond)
	fa := store.FenceOf(a)
	vs, err := l.PutStatesFenced(ctx, fa, []store.StateWrite{{Key: "k", Value: []byte("a1"), ExpectedVersion: -1}})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, vs)

	// A fenced write still checks versions, as PutStates does: a conflict is a conflict.
	_, err = l.PutStatesFenced(ctx, fa, []store.StateWrite{{Key: "k", Value: []byte("x"), ExpectedVersion: -1}})
	require.ErrorIs(t, err, store.ErrConflict)
	require.NotErrorIs(t, err, store.ErrFenced)

	b := waitTaken(t, l, "b", a.Fence)
	_, err = l.PutStatesFenced(ctx, fa, []store.StateWrite{
		{Key: "k", Value: []byte("a2"), ExpectedVersion: 1},
		{Key: "other", Value: []byte("a2")},
	})
	require.ErrorIs(t, err, store.ErrFenced, "the ex-holder's write went through")
	_, err = l.PutStatesFenced(ctx, fa, []store.StateWrite{{Key: "k", Delete: true}})
	require.ErrorIs(t, err, store.ErrFenced)
	val, version, err := s.GetState(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "a1", string(val))
	assert.Equal(t, int64(1), version)
	_, _, err = s.GetState(ctx, "other")
	require.ErrorIs(t, err, store.ErrNotFound, "part of a fenced batch was written")

	// A forged fence: the right holder at another token.
	_, err = l.PutStatesFenced(ctx, store.Fence{Name: "singleton", Holder: "b", Token: b.Fence + 1}, []store.StateWrite{{Key: "k", Value: []byte("z")}})
	require.ErrorIs(t, err, store.ErrFenced)

	vs, err = l.PutStatesFenced(ctx, store.FenceOf(b), []store.StateWrite{{Key: "k", Value: []byte("b1"), ExpectedVersion: 1}})
	require.NoError(t, err)
	assert.Equal(t, []int64{2}, vs)

	// Through store.Fenced, as singleton work sees it.
	held := true
	f := store.NewFenced(s, l, func() (store.Fence, bool) { return store.FenceOf(b), held })
	v, err := f.PutState(ctx, "k", []byte("b2"), 2)
	require.NoError(t, err)
	assert.Equal(t, int64(3), v)
	require.NoError(t, f.DeleteState(ctx, "absent", 0), "deleting an absent entry unconditionally is a no-op")
	held = false
	_, err = f.PutState(ctx, "k", []byte("b3"), 0)
	require.ErrorIs(t, err, store.ErrFenced)
	require.ErrorIs(t, f.DeleteState(ctx, "k", 0), store.ErrFenced)
	val, _, err = s.GetState(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "b2", string(val))
}

func testLeaseRelease(t *testing.T, l store.Leaser, s store.Store) {
	ctx := ctxFor(t)
	a := acquire(t, l, "a", time.Hour)
	// Releasing under a fence that is not current does nothing.
	require.NoError(t, l.ReleaseLease(ctx, store.Fence{Name: "singleton", Holder: "b", Token: a.Fence}))
	require.False(t, acquire(t, l, "b", time.Hour).Held("b"))

	require.NoError(t, l.ReleaseLease(ctx, store.FenceOf(a)))
	b := acquire(t, l, "b", time.Hour)
	require.True(t, b.Held("b"), "a released lease is free at once")
	assert.Equal(t, a.Fence+1, b.Fence)
	_, err := l.PutStatesFenced(ctx, store.FenceOf(a), []store.StateWrite{{Key: "k", Value: []byte("a")}})
	require.ErrorIs(t, err, store.ErrFenced)
	_, _, err = s.GetState(ctx, "k")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testLeaseRace: replicas racing for a free lease get exactly one holder, one fence.
func testLeaseRace(t *testing.T, l store.Leaser, _ store.Store) {
	const n = 8
	var wg sync.WaitGroup
	leases := make([]store.Lease, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leases[i], errs[i] = l.AcquireLease(ctxFor(t), store.LeaseRequest{Name: "singleton", Holder: fmt.Sprint("r", i), TTL: time.Minute})
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	holders := 0
	for i, lease := range leases {
		if lease.Held(fmt.Sprint("r", i)) {
			holders++
		}
		assert.Equal(t, int64(1), lease.Fence)
	}
	assert.Equal(t, 1, holders, "holders of one lease: %+v", leases)
}

func testLeaseInvalid(t *testing.T, l store.Leaser, _ store.Store) {
	for _, req := range []store.LeaseRequest{
		{Holder: "a", TTL: time.Second},
		{Name: "singleton", TTL: time.Second},
		{Name: "singleton", Holder: "a"},
	} {
		_, err := l.AcquireLease(ctxFor(t), req)
		require.Error(t, err, "%+v", req)
	}
}

// testLeaseCount: a lease per replica counts the live replicas.
func testLeaseCount(t *testing.T, l store.Leaser, _ store.Store) {
	ctx := ctxFor(t)
	n, err := l.CountLeases(ctx, "replica/")
	require.NoError(t, err)
	assert.Zero(t, n)
	for _, r := range []struct {
		name string
		ttl  time.Duration
	}{{"replica/a", time.Minute}, {"replica/b", time.Minute}, {"replica/c", 200 * time.Millisecond}, {"singleton", time.Minute}} {
		_, err := l.AcquireLease(ctx, store.LeaseRequest{Name: r.name, Holder: r.name, TTL: r.ttl})
		require.NoError(t, err)
	}
	n, err = l.CountLeases(ctx, "replica/")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	time.Sleep(400 * time.Millisecond)
	n, err = l.CountLeases(ctx, "replica/")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "an expired lease counts")
	b, err := l.GetLease(ctx, "replica/b")
	require.NoError(t, err)
	require.NoError(t, l.ReleaseLease(ctx, store.FenceOf(b)))
	n, err = l.CountLeases(ctx, "replica/")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a released lease counts")
	// LIKE patterns in the prefix are plain text.
	n, err = l.CountLeases(ctx, "replica%")
	require.NoError(t, err)
	assert.Zero(t, n)
}
