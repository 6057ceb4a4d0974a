package tokens

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// outageStore answers as an unreachable database does while down is set.
type outageStore struct {
	StateStore
	down atomic.Bool
}

func (s *outageStore) GetState(ctx context.Context, key string) ([]byte, int64, error) {
	if s.down.Load() {
		return nil, 0, fmt.Errorf("get state %q: %w: connection refused", key, store.ErrUnavailable)
	}
	return s.StateStore.GetState(ctx, key)
}

// A dataplane whose token this control plane verified before the store went down reconnects
// during the outage: the keys, the mesh and the revocations learned before answer. What was
// refused before still is, and what was never learned is a failure to check, not a verdict.
func TestVerifyThroughAStoreOutage(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := &outageStore{StateStore: openDB(t, dbPath(t))}
	meshes := newMeshTable("default", "gone")
	var meshesDown atomic.Bool
	lookup := func(ctx context.Context, mesh string) (time.Time, error) {
		if meshesDown.Load() {
			return time.Time{}, fmt.Errorf("mesh %q: %w", mesh, store.ErrUnavailable)
		}
		return meshes.lookup(ctx, mesh)
	}
	is := New(st, Options{Now: c.Now, Logger: quiet(), Meshes: lookup})

	good := issue(t, is, "default", "gw", time.Hour)
	revoked := issue(t, is, "default", "old", time.Hour)
	require.NoError(t, is.Revoke(ctx, "default", tokenInfo(t, revoked).ID))
	ofGone := issue(t, is, "gone", "gw", time.Hour)
	meshes.remove("gone")
	_, err := is.Verify(ctx, good, "default", "gw")
	require.NoError(t, err)
	require.ErrorIs(t, verr(is.Verify(ctx, ofGone, "gone", "gw")), ErrInvalid)

	// Another control plane issued this one; this process never loaded the other mesh's keys.
	other := New(st, Options{Now: c.Now, Logger: quiet(), Meshes: lookup})
	meshes.create("elsewhere", c.Now())
	unknown := issue(t, other, "elsewhere", "gw", time.Hour)

	st.down.Store(true)
	meshesDown.Store(true)
	c.advance(time.Minute) // past every cache's TTL: each check asks the store, which fails

	_, err = is.Verify(ctx, good, "default", "gw")
	require.NoError(t, err, "a known dataplane's token must verify through an outage")
	require.NoError(t, is.Recheck(ctx, tokenInfo(t, good)))
	require.ErrorIs(t, verr(is.Verify(ctx, revoked, "default", "old")), ErrRevoked, "a revocation learned before must still apply")
	require.ErrorIs(t, verr(is.Verify(ctx, ofGone, "gone", "gw")), ErrInvalid, "a deletion learned before must still apply")
	_, err = is.Verify(ctx, unknown, "elsewhere", "gw")
	require.ErrorIs(t, err, store.ErrUnavailable)
	for _, verdict := range []error{ErrInvalid, ErrExpired, ErrRevoked, ErrWrongDataplane} {
		assert.NotErrorIs(t, err, verdict)
	}
	_, err = is.Issue(ctx, IssueRequest{Mesh: "default", Name: "new"})
	require.ErrorIs(t, err, store.ErrUnavailable, "issuing asks the store afresh")

	// Back: what changed meanwhile elsewhere is learned again.
	st.down.Store(false)
	meshesDown.Store(false)
	require.NoError(t, other.Revoke(ctx, "default", tokenInfo(t, good).ID))
	c.advance(time.Minute)
	require.ErrorIs(t, verr(is.Verify(ctx, good, "default", "gw")), ErrRevoked)
	_, err = is.Verify(ctx, unknown, "elsewhere", "gw")
	require.NoError(t, err)
}
