package kubestate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/meshgate/meshgate/store"
)

// gate is a readers-writer lock whose waits end with the caller's context: a batch stuck on
// an API server that does not answer must not hang the reads queued behind it (the health
// probe among them) beyond their own deadlines. Waiting writers go first, so that a stream of
// reads cannot keep a write out.
type gate struct {
	mu      sync.Mutex
	readers int
	writing bool
	// writers are waiting; new readers queue behind them.
	writers int
	// wake is closed, and dropped, whenever the lock may have become free.
	wake chan struct{}
}

// What lock and unlock take.
const (
	exclusive = true
	shared    = false
)

// lock takes the gate to write (exclusive) or to read (shared), or fails when ctx ends first.
// A deadline is store.ErrUnavailable: the store did not answer in time.
func (g *gate) lock(ctx context.Context, write bool) error {
	g.mu.Lock()
	if write {
		g.writers++
	}
	for {
		if !g.writing && ((write && g.readers == 0) || (!write && g.writers == 0)) {
			if write {
				g.writers--
				g.writing = true
			} else {
				g.readers++
			}
			g.mu.Unlock()
			return nil
		}
		if g.wake == nil {
			g.wake = make(chan struct{})
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
			g.mu.Lock()
		case <-ctx.Done():
			if write {
				g.mu.Lock()
				g.writers--
				g.signal() // readers queued behind this writer may go
				g.mu.Unlock()
			}
			err := fmt.Errorf("waiting for another state write of this process: %w", ctx.Err())
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
			}
			return err
		}
	}
}

// unlock releases what lock took.
func (g *gate) unlock(write bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if write {
		g.writing = false
	} else {
		g.readers--
	}
	g.signal()
}

func (g *gate) signal() {
	if g.wake != nil {
		close(g.wake)
		g.wake = nil
	}
}
