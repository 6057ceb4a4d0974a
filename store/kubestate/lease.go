package kubestate

import (
	"context"
	"errors"
	"fmt"

	"github.com/meshgate/meshgate/store"
)

// Leases are the records store's (see the package comment: with the embedded store, this
// process's own). Acquiring and releasing take the gate, so the lease cannot change hands through
// this Store while a fenced batch is checked and written.

// AcquireLease implements store.Leaser.
func (s *Store) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if err := s.gate.lock(ctx, exclusive); err != nil {
		return store.Lease{}, fmt.Errorf("kubestate: acquire lease %q: %w", req.Name, err)
	}
	defer s.gate.unlock(exclusive)
	return s.leaser.AcquireLease(ctx, req)
}

// ReleaseLease implements store.Leaser.
func (s *Store) ReleaseLease(ctx context.Context, f store.Fence) error {
	if err := s.gate.lock(ctx, exclusive); err != nil {
		return fmt.Errorf("kubestate: release lease %q: %w", f.Name, err)
	}
	defer s.gate.unlock(exclusive)
	return s.leaser.ReleaseLease(ctx, f)
}

// GetLease implements store.Leaser.
func (s *Store) GetLease(ctx context.Context, name string) (store.Lease, error) {
	return s.leaser.GetLease(ctx, name)
}

// CountLeases implements store.Leaser.
func (s *Store) CountLeases(ctx context.Context, prefix string) (int, error) {
	return s.leaser.CountLeases(ctx, prefix)
}

// PutStatesFenced implements store.Leaser: PutStates, with the fence checked first under the
// same lock as the writes.
func (s *Store) PutStatesFenced(ctx context.Context, f store.Fence, writes []store.StateWrite) ([]int64, error) {
	order, err := validate(writes)
	if err != nil {
		return nil, fmt.Errorf("kubestate: put states: %w", err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := s.gate.lock(ctx, exclusive); err != nil {
		return nil, fmt.Errorf("kubestate: put states: %w", err)
	}
	defer s.gate.unlock(exclusive)
	l, err := s.leaser.GetLease(ctx, f.Name)
	switch {
	case err == nil && l.Holder == f.Holder && l.Fence == f.Token && l.Expires.After(l.Now):
	case err == nil || errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("kubestate: put states: lease %q fence %d of %s: %w", f.Name, f.Token, f.Holder, store.ErrFenced)
	default:
		return nil, fmt.Errorf("kubestate: put states: checking lease %q: %w", f.Name, err)
	}
	if len(writes) == 0 {
		return []int64{}, nil
	}
	return s.writeStates(ctx, writes, order)
}
