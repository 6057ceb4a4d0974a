package tokens

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// A replica that warmed a mesh admits, through a store outage, a dataplane it never saw (one
// failing over from another replica) and still refuses a token revoked before the outage; a
// replica that did not warm cannot check the token at all.
func TestWarmAdmitsNewcomersThroughAnOutage(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := &outageStore{StateStore: openDB(t, dbPath(t))}
	meshes := newMeshTable("default", "empty")
	var down atomic.Bool
	lookup := func(ctx context.Context, mesh string) (time.Time, error) {
		if down.Load() {
			return time.Time{}, fmt.Errorf("mesh %q: %w", mesh, store.ErrUnavailable)
		}
		return meshes.lookup(ctx, mesh)
	}
	elsewhere := New(st, Options{Now: c.Now, Logger: quiet(), Meshes: lookup})
	good := issue(t, elsewhere, "default", "gw", time.Hour)
	revoked := issue(t, elsewhere, "default", "old", time.Hour)
	require.NoError(t, elsewhere.Revoke(ctx, "default", tokenInfo(t, revoked).ID))

	warm := New(st, Options{Now: c.Now, Logger: quiet(), Meshes: lookup})
	cold := New(st, Options{Now: c.Now, Logger: quiet(), Meshes: lookup})
	require.NoError(t, warm.Warm(ctx, "default"))
	require.NoError(t, warm.Warm(ctx, "empty"), "a mesh without tokens has nothing to warm")

	st.down.Store(true)
	down.Store(true)
	_, err := warm.Verify(ctx, good, "default", "gw")
	require.NoError(t, err, "a warmed replica admits a dataplane it never saw")
	require.ErrorIs(t, verr(warm.Verify(ctx, revoked, "default", "old")), ErrRevoked)
	_, err = cold.Verify(ctx, good, "default", "gw")
	require.ErrorIs(t, err, store.ErrUnavailable, "without warming there is nothing to check against")
}
