package tokens

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// Among replicas only the lease holder prunes expired revocations: a replica without the
// lease revokes all the same, leaving the pruning to the holder.
func TestRevocationPruningUnderLease(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := openDB(t, dbPath(t))
	lease, err := s.AcquireLease(ctx, store.LeaseRequest{Name: "singleton", Holder: "leader", TTL: time.Hour})
	require.NoError(t, err)
	held := false
	pruner := store.NewFenced(s, s, func() (store.Fence, bool) { return store.FenceOf(lease), held })
	is := New(s, Options{Now: c.Now, Logger: quiet(), Meshes: newMeshTable("default").lookup, Pruner: pruner})
	expired := tokenInfo(t, issue(t, is, "default", "gw", time.Hour))
	require.NoError(t, is.Revoke(ctx, "default", expired.ID))
	revoked := func() []string {
		stored, _, err := is.revs.read(ctx, "default")
		require.NoError(t, err)
		var ids []string
		for _, r := range stored.Revoked {
			ids = append(ids, r.ID)
		}
		return ids
	}
	c.advance(2*time.Hour + pruneGrace)

	require.NoError(t, is.Revoke(ctx, "default", "a"), "a replica without the lease could not revoke")
	assert.ElementsMatch(t, []string{expired.ID, "a"}, revoked(), "a replica without the lease pruned")

	held = true
	require.NoError(t, is.Revoke(ctx, "default", "b"))
	assert.ElementsMatch(t, []string{"a", "b"}, revoked(), "the lease holder did not prune")
}
