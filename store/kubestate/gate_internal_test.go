package kubestate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// lockAsync takes g in a goroutine; the channel reports the result.
func lockAsync(ctx context.Context, g *gate, w bool) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- g.lock(ctx, w) }()
	return ch
}

func requireBlocked(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		require.FailNow(t, what+" did not wait", "got %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

func requireGot(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		require.FailNow(t, what+" still waiting after 5s")
		return nil
	}
}

func TestGateReadersShareWritersExclude(t *testing.T) {
	var g gate
	ctx := context.Background()
	require.NoError(t, g.lock(ctx, shared))
	require.NoError(t, requireGot(t, lockAsync(ctx, &g, shared), "a second reader"))
	w := lockAsync(ctx, &g, exclusive)
	requireBlocked(t, w, "a writer behind readers")
	r := lockAsync(ctx, &g, shared)
	requireBlocked(t, r, "a reader behind a waiting writer")
	g.unlock(shared)
	requireBlocked(t, w, "a writer behind one reader")
	g.unlock(shared)
	require.NoError(t, requireGot(t, w, "the writer once readers left"))
	requireBlocked(t, r, "a reader behind the writer")
	g.unlock(exclusive)
	require.NoError(t, requireGot(t, r, "the reader once the writer left"))
	g.unlock(shared)
}

func TestGateWaitsEndWithContext(t *testing.T) {
	var g gate
	require.NoError(t, g.lock(context.Background(), exclusive))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := requireGot(t, lockAsync(ctx, &g, shared), "a reader with a deadline")
	require.ErrorIs(t, err, store.ErrUnavailable, "a read that found no answer in time")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	cctx, ccancel := context.WithCancel(context.Background())
	w := lockAsync(cctx, &g, exclusive)
	requireBlocked(t, w, "a second writer")
	ccancel()
	err = requireGot(t, w, "a cancelled writer")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, store.ErrUnavailable)

	// The writer that gave up no longer keeps readers out.
	r := lockAsync(context.Background(), &g, shared)
	requireBlocked(t, r, "a reader behind the first writer")
	g.unlock(exclusive)
	require.NoError(t, requireGot(t, r, "the reader"))
	g.unlock(shared)
	require.NoError(t, g.lock(context.Background(), exclusive), "free again")
}
