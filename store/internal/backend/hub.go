package backend

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Watch on a closed store.
var ErrClosed = errors.New("store is closed")

// Hub fans revisions out to watchers. Each watcher channel holds at most one value, always the
// newest: Publish never blocks, so a slow watcher costs writers nothing and sees the latest
// revision when it gets round to reading.
type Hub struct {
	mu       sync.Mutex
	current  int64
	closed   bool
	watchers map[chan int64]func() bool
}

// NewHub starts at rev, so watchers registered later hear only of newer revisions.
func NewHub(rev int64) *Hub {
	return &Hub{current: rev, watchers: map[chan int64]func() bool{}}
}

// Publish announces rev. Revisions at or below the newest already published are dropped, so
// the same change reported twice (locally and through a database notification) or out of
// order reaches each watcher once, in increasing order.
func (h *Hub) Publish(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || rev <= h.current {
		return
	}
	h.current = rev
	for ch := range h.watchers {
		// Only Publish sends, under h.mu, so after draining the channel has room.
		select {
		case <-ch:
		default:
		}
		ch <- rev
	}
}

// Repeat announces the newest revision again to every watcher, as if it were new: after a
// store outage, so that a watcher whose reading of that revision failed reads it again.
func (h *Hub) Repeat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for ch := range h.watchers {
		select {
		case <-ch:
		default:
		}
		ch <- h.current
	}
}

// Current is the newest published revision.
func (h *Hub) Current() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.current
}

// Watch registers a watcher whose channel closes when ctx is done or the hub closes.
func (h *Hub) Watch(ctx context.Context) (<-chan int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	ch := make(chan int64, 1)
	h.watchers[ch] = context.AfterFunc(ctx, func() { h.drop(ch) })
	return ch, nil
}

func (h *Hub) drop(ch chan int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[ch]; ok {
		delete(h.watchers, ch)
		close(ch)
	}
}

// Close closes every watcher channel; later Watch calls fail.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for ch, stop := range h.watchers {
		stop()
		close(ch)
	}
	h.watchers = nil
}
