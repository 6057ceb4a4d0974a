package vip

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// A replica that does not allocate serves what the allocating one stored, and says which keys
// are still waiting for it.
func TestLookupServesStoredVIPs(t *testing.T) {
	st := openStore(t, t.TempDir())
	leader := newAlloc(t, st, Options{})
	follower := newAlloc(t, st, Options{})
	ctx := context.Background()

	got, missing, version, err := follower.Lookup(ctx, []Key{{Name: "a.mesh"}})
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, []Key{{Name: "a.mesh"}}, missing)
	assert.Zero(t, version)

	_, err = leader.Sync(ctx, []Key{{Name: "a.mesh"}})
	require.NoError(t, err)
	got, missing, version, err = follower.Lookup(ctx, []Key{{Name: "a.mesh"}, {Name: "b.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, map[Key]VIPs{{Name: "a.mesh"}: {V4: addr("240.0.0.1")}}, got)
	assert.Equal(t, []Key{{Name: "b.mesh"}}, missing)
	assert.Equal(t, int64(1), version)
	_, v, err := st.GetState(ctx, StateKey)
	require.NoError(t, err)
	assert.Equal(t, int64(1), v, "Lookup wrote")
}

// An allocator on a fenced store whose lease is gone allocates nothing.
func TestSyncFenced(t *testing.T) {
	st := openStore(t, t.TempDir())
	l := st.(store.Leaser)
	ctx := context.Background()
	lease, err := l.AcquireLease(ctx, store.LeaseRequest{Name: "singleton", Holder: "a", TTL: time.Minute})
	require.NoError(t, err)
	fence := store.FenceOf(lease)
	fence.Token++ // another holder's era
	a := newAlloc(t, store.NewFenced(st, l, func() (store.Fence, bool) { return fence, true }), Options{})
	_, err = a.Sync(ctx, []Key{{Name: "a.mesh"}})
	require.ErrorIs(t, err, store.ErrFenced)
	_, _, err = st.GetState(ctx, StateKey)
	require.ErrorIs(t, err, store.ErrNotFound)
}
