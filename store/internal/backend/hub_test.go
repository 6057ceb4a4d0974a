package backend

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Publishers racing, each with its own revisions: a reader sees strictly increasing values
// and ends on the highest.
func TestHubConcurrentPublishIsMonotonic(t *testing.T) {
	h := NewHub(10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Watch(ctx)
	require.NoError(t, err)

	const publishers, each = 4, 200
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				h.Publish(int64(11 + i*publishers + p))
			}
		})
	}
	final := int64(10 + publishers*each)
	var last int64 = 10
	for last < final {
		select {
		case rev := <-ch:
			require.Greater(t, rev, last)
			last = rev
		case <-time.After(10 * time.Second):
			require.FailNow(t, "stuck", "last %d", last)
		}
	}
	wg.Wait()
	assert.Equal(t, final, h.Current())
}

func TestHubIgnoresOldRevisions(t *testing.T) {
	h := NewHub(5)
	ch, err := h.Watch(context.Background())
	require.NoError(t, err)
	h.Publish(5)
	h.Publish(3)
	select {
	case rev := <-ch:
		require.FailNowf(t, "old revision delivered", "%d", rev)
	default:
	}
	h.Publish(6)
	assert.Equal(t, int64(6), <-ch)
}

func TestHubClose(t *testing.T) {
	h := NewHub(0)
	ch, err := h.Watch(context.Background())
	require.NoError(t, err)
	h.Close()
	_, ok := <-ch
	assert.False(t, ok)
	h.Close()
	h.Publish(1)
	_, err = h.Watch(context.Background())
	require.ErrorIs(t, err, ErrClosed)
}

func TestHubCancelledContext(t *testing.T) {
	h := NewHub(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ch, err := h.Watch(ctx)
	require.NoError(t, err)
	select {
	case _, ok := <-ch:
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "not closed")
	}
	h.Publish(1) // no send on a closed channel
}
