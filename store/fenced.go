package store

import (
	"context"
	"fmt"
)

// Fenced is a Store whose state writes are made under a lease: each commits only if the fence
// that current returns is still held when the write's transaction runs, and fails with
// ErrFenced without touching the store when current reports none. Reads, resource writes and
// watches go to the underlying store unchanged: only singleton work is handed a Fenced store.
type Fenced struct {
	Store
	leaser  Leaser
	current func() (Fence, bool)
}

// NewFenced wraps st (reads, resources) and l (fenced state writes; usually the same store).
// current is asked for the fence at every write, so a lease that changes hands is followed.
func NewFenced(st Store, l Leaser, current func() (Fence, bool)) *Fenced {
	return &Fenced{Store: st, leaser: l, current: current}
}

// PutState implements Store, fenced.
func (f *Fenced) PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (int64, error) {
	vs, err := f.PutStates(ctx, []StateWrite{{Key: key, Value: value, ExpectedVersion: expectedVersion}})
	if err != nil {
		return 0, err
	}
	return vs[0], nil
}

// DeleteState implements Store, fenced. As a batch's delete, expectedVersion 0 of an absent
// entry is a no-op.
func (f *Fenced) DeleteState(ctx context.Context, key string, expectedVersion int64) error {
	_, err := f.PutStates(ctx, []StateWrite{{Key: key, ExpectedVersion: expectedVersion, Delete: true}})
	return err
}

// PutStates implements Store, fenced.
func (f *Fenced) PutStates(ctx context.Context, writes []StateWrite) ([]int64, error) {
	fence, ok := f.current()
	if !ok {
		return nil, fmt.Errorf("state write outside the lease: %w", ErrFenced)
	}
	return f.leaser.PutStatesFenced(ctx, fence, writes)
}
