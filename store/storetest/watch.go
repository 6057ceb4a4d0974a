package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func testWatch(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	mustPut(t, s, key("Mesh", "", "before-watch"))
	ch, err := s.Watch(ctx)
	require.NoError(t, err)

	for i := range 3 {
		res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(key("Mesh", "", "m"), "", 0)}})
		require.NoError(t, err)
		assert.Equal(t, res.Revision, receive(t, ch), "change %d", i)
	}

	t.Run("failed and empty applies are not announced", func(t *testing.T) {
		_, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(key("Mesh", "", "m"), "", -1)}})
		require.ErrorIs(t, err, store.ErrConflict)
		_, err = s.Apply(ctx, store.ApplyRequest{})
		require.NoError(t, err)
		res, err := s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: key("Mesh", "", "m")}}})
		require.NoError(t, err)
		assert.Equal(t, res.Revision, receive(t, ch), "the next value is the next real change")
	})

	t.Run("every watcher hears", func(t *testing.T) {
		other, err := s.Watch(ctx)
		require.NoError(t, err)
		res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(key("Mesh", "", "n"), "", 0)}})
		require.NoError(t, err)
		assert.Equal(t, res.Revision, receive(t, ch))
		assert.Equal(t, res.Revision, receive(t, other))
	})
}

// testWatchCoalesces: a watcher that does not read must not hold up writers, and when it reads
// it gets the newest revision rather than a backlog.
func testWatchCoalesces(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	ch, err := s.Watch(ctx)
	require.NoError(t, err)
	var last int64
	for range 20 {
		last = mustPut(t, s, key("Mesh", "", "m"))[0].Version
	}
	assert.Equal(t, revision(t, s), receiveAtLeast(t, ch, last))
	select {
	case rev := <-ch:
		require.FailNowf(t, "backlog after the newest revision", "got %d", rev)
	case <-time.After(200 * time.Millisecond):
	}
}

func testWatchClosesOnCancel(t *testing.T, open Opener) {
	s := open(t)
	ctx, cancel := context.WithCancel(ctxFor(t))
	ch, err := s.Watch(ctx)
	require.NoError(t, err)
	mustPut(t, s, key("Mesh", "", "m"))
	cancel()
	requireClosed(t, ch)

	// Writers carry on with a cancelled watcher around.
	mustPut(t, s, key("Mesh", "", "m"))
}

func testWatchClosesOnClose(t *testing.T, open Opener) {
	s := open(t)
	ch, err := s.Watch(ctxFor(t))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	requireClosed(t, ch)
	_, err = s.Watch(ctxFor(t))
	require.Error(t, err, "Watch on a closed store")
}
