package kubestate

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// GetState implements store.Store.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, int64, error) {
	if s.closed.Load() {
		return nil, 0, ErrClosed
	}
	if err := s.gate.lock(ctx, shared); err != nil {
		return nil, 0, fmt.Errorf("kubestate: get state %q: %w", key, err)
	}
	defer s.gate.unlock(shared)
	e, err := s.read(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("kubestate: get state %q: %w", key, err)
	}
	if !e.exists {
		return nil, 0, fmt.Errorf("kubestate: get state %q: %w", key, store.ErrNotFound)
	}
	return e.value, e.version, nil
}

// Ping checks that the API server answers a read of Secrets in the namespace, for health
// checks; its error wraps store.ErrUnavailable when it cannot be reached. Unlike GetState it
// does not wait for this process's state writes, so a long batch does not read as an outage.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.secrets().Get(ctx, pingSecret, metav1.GetOptions{})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return apiError(fmt.Sprintf("kubestate: ping: reading Secret %s/%s", s.namespace, pingSecret), err)
}

// pingSecret is never written; its name cannot be a state Secret's, which ends in a hash.
const pingSecret = SecretPrefix + "ping"

// PutState implements store.Store: a batch of one.
func (s *Store) PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (int64, error) {
	vs, err := s.PutStates(ctx, []store.StateWrite{{Key: key, Value: value, ExpectedVersion: expectedVersion}})
	if err != nil {
		return 0, err
	}
	return vs[0], nil
}

// DeleteState implements store.Store: a batch of one.
func (s *Store) DeleteState(ctx context.Context, key string, expectedVersion int64) error {
	_, err := s.PutStates(ctx, []store.StateWrite{{Key: key, ExpectedVersion: expectedVersion, Delete: true}})
	return err
}

// PutStates implements store.Store; see the package comment for what is atomic.
func (s *Store) PutStates(ctx context.Context, writes []store.StateWrite) ([]int64, error) {
	order, err := validate(writes)
	if err != nil {
		return nil, fmt.Errorf("kubestate: put states: %w", err)
	}
	if len(writes) == 0 {
		return []int64{}, nil
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := s.gate.lock(ctx, exclusive); err != nil {
		return nil, fmt.Errorf("kubestate: put states: %w", err)
	}
	defer s.gate.unlock(exclusive)
	return s.writeStates(ctx, writes, order)
}

// validate is backend.ValidateStates and the Secret size limit, so that a batch with a value
// too large is refused before anything is written.
func validate(writes []store.StateWrite) ([]int, error) {
	order, err := backend.ValidateStates(writes)
	if err != nil {
		return nil, err
	}
	for _, w := range writes {
		if err := checkSize(w.Key, w.Value); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// read returns key's entry; absent is not an error.
func (s *Store) read(ctx context.Context, key string) (entry, error) {
	name := SecretName(key)
	sec, err := s.secrets().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return entry{}, nil
	}
	if err != nil {
		return entry{}, apiError(fmt.Sprintf("reading Secret %s/%s", s.namespace, name), err)
	}
	return decode(key, sec)
}
