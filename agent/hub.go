package agent

import (
	"context"
	"sync"
)

// hub holds the current identity and wakes every Workload API stream when it changes.
type hub struct {
	mu      sync.Mutex
	current *Identity
	changed chan struct{}
}

func newHub() *hub { return &hub{changed: make(chan struct{})} }

// set publishes a new identity.
func (h *hub) set(id *Identity) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.current = id
	close(h.changed)
	h.changed = make(chan struct{})
}

// get returns the current identity (nil before the first) and a channel closed on the next
// change.
func (h *hub) get() (*Identity, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.current, h.changed
}

// watch calls send with the first identity and with every later one, until ctx ends or send
// fails. It waits for the first identity as long as it takes: a workload that starts before
// the agent has fetched one gets it as soon as it has.
func (h *hub) watch(ctx context.Context, send func(*Identity) error) error {
	var last *Identity
	for {
		id, changed := h.get()
		if id != nil && id != last {
			if err := send(id); err != nil {
				return err
			}
			last = id
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}
