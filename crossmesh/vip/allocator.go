package vip

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/meshgate/meshgate/store"
)

// Allocator assigns VIPs to keys. Its only state is the store document; several allocators
// (one per control plane) on one store agree because every change is a compare-and-swap on
// that document's version, re-planned from the winner's result after a conflict.
type Allocator struct {
	st   store.Store
	opts Options

	mu sync.Mutex // serialises Sync, so one process does not race itself
	// cached is the last document read or written, reused while the stored version is the
	// same: decoding 10,000 entries on every rebuild would dominate an unchanged Sync.
	cached        *document
	cachedVersion int64
}

// NewAllocator checks opts and returns an allocator over st. It does not touch the store.
func NewAllocator(st store.Store, opts Options) (*Allocator, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Allocator{st: st, opts: o}, nil
}

// Sync makes keys the full set of allocated names: existing keys keep their VIPs, new keys get
// the lowest free ones (in key order), keys no longer present are released into quarantine.
// It returns every key's VIPs. Call it once per rebuild with every key.
func (a *Allocator) Sync(ctx context.Context, keys []Key) (map[Key]VIPs, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for attempt := 0; attempt < a.opts.Attempts; attempt++ {
		doc, version, err := a.load(ctx)
		if err != nil {
			return nil, err
		}
		next, out, changed, err := a.plan(doc, keys, a.opts.Now())
		if err != nil {
			return nil, err
		}
		if !changed {
			return out, nil
		}
		data, err := next.encode()
		if err != nil {
			return nil, err
		}
		expected := version
		if expected == 0 {
			expected = -1 // must not exist yet: two first writers must not both win
		}
		v, err := a.st.PutState(ctx, StateKey, data, expected)
		if errors.Is(err, store.ErrConflict) {
			continue // another control plane wrote first; plan again on top of its result
		}
		if err != nil {
			return nil, fmt.Errorf("vip: save %s: %w", StateKey, err)
		}
		a.cached, a.cachedVersion = next, v
		return out, nil
	}
	return nil, fmt.Errorf("vip: %s changed under every one of %d attempts: %w", StateKey, a.opts.Attempts, store.ErrConflict)
}

// load returns the stored document and its version (0 when there is none yet).
func (a *Allocator) load(ctx context.Context) (*document, int64, error) {
	data, version, err := a.st.GetState(ctx, StateKey)
	if errors.Is(err, store.ErrNotFound) {
		return &document{}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("vip: load %s: %w", StateKey, err)
	}
	if a.cached != nil && version == a.cachedVersion {
		return a.cached, version, nil
	}
	doc, err := decode(data)
	if err != nil {
		return nil, 0, err
	}
	a.cached, a.cachedVersion = doc, version
	return doc, version, nil
}
