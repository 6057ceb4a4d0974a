package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// GetState implements store.Store.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, int64, error) {
	var (
		value   []byte
		version int64
	)
	err := s.pool.QueryRow(ctx, `SELECT value, version FROM state WHERE key = $1`, key).Scan(&value, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, fmt.Errorf("postgres: get state %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: get state %q: %w", key, err)
	}
	return backend.NonNil(value), version, nil
}

// PutState implements store.Store. Each case is one statement, atomic on its own even against
// other processes (ON CONFLICT handles a concurrent insert; UPDATE re-checks the version after
// waiting for a concurrent writer). State writes do not change the revision or wake watchers.
func (s *Store) PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (int64, error) {
	if err := backend.ValidateState(key, expectedVersion); err != nil {
		return 0, fmt.Errorf("postgres: put state: %w", err)
	}
	value = backend.NonNil(value)
	var (
		q    string
		args []any
	)
	switch expectedVersion {
	case 0:
		q = `INSERT INTO state (key, value, version) VALUES ($1, $2, 1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = state.version + 1
			RETURNING version`
		args = []any{key, value}
	case -1:
		q = `INSERT INTO state (key, value, version) VALUES ($1, $2, 1)
			ON CONFLICT (key) DO NOTHING RETURNING version`
		args = []any{key, value}
	default:
		q = `UPDATE state SET value = $1, version = version + 1 WHERE key = $2 AND version = $3 RETURNING version`
		args = []any{value, key, expectedVersion}
	}
	var version int64
	err := s.pool.QueryRow(ctx, q, args...).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: put state %q: expected version %d: %w", key, expectedVersion, store.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: put state %q: %w", key, err)
	}
	return version, nil
}
