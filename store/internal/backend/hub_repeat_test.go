package backend

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Repeat re-sends the current revision, which Publish would drop as old news: a watcher whose
// reading of it failed (the store went away) is told to read again.
func TestHubRepeat(t *testing.T) {
	h := NewHub(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Watch(ctx)
	require.NoError(t, err)
	h.Publish(5)
	require.Equal(t, int64(5), <-ch)

	h.Publish(5)
	select {
	case rev := <-ch:
		t.Fatalf("Publish re-sent revision %d", rev)
	default:
	}
	h.Repeat()
	h.Repeat() // coalesced: the watcher holds one value
	select {
	case rev := <-ch:
		assert.Equal(t, int64(5), rev)
	case <-time.After(5 * time.Second):
		t.Fatal("Repeat sent nothing")
	}
	select {
	case rev := <-ch:
		t.Fatalf("a second value %d", rev)
	default:
	}

	h.Close()
	h.Repeat() // after Close: nothing, and no panic on the closed channels
	_, ok := <-ch
	assert.False(t, ok)
}
