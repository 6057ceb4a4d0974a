package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/store/storetest"
)

func TestLeaseContract(t *testing.T) {
	storetest.RunLease(t, opener())
}

// A lease left live by an earlier process on the file (killed without releasing it) does not
// hold a restarted standalone control plane back, and the earlier holder's fence is dead.
func TestLeaseOfEarlierProcessIsFree(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := sqlite.OpenDir(ctx, dir)
	require.NoError(t, err)
	old, err := first.AcquireLease(ctx, store.LeaseRequest{Name: "singleton", Holder: "crashed", TTL: time.Hour})
	require.NoError(t, err)
	require.NoError(t, first.Close())

	second, err := sqlite.OpenDir(ctx, dir)
	require.NoError(t, err)
	defer second.Close()
	got, err := second.AcquireLease(ctx, store.LeaseRequest{Name: "singleton", Holder: "restarted", TTL: time.Hour})
	require.NoError(t, err)
	require.True(t, got.Held("restarted"))
	require.Equal(t, old.Fence+1, got.Fence)
	_, err = second.PutStatesFenced(ctx, store.FenceOf(old), []store.StateWrite{{Key: "k", Value: []byte("v")}})
	require.ErrorIs(t, err, store.ErrFenced)
	// Within this process, a live lease is still exclusive.
	other, err := second.AcquireLease(ctx, store.LeaseRequest{Name: "singleton", Holder: "other", TTL: time.Hour})
	require.NoError(t, err)
	require.False(t, other.Held("other"))
}
