package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// GetState implements store.Store.
func (s *Store) GetState(ctx context.Context, key string) ([]byte, int64, error) {
	var (
		value   []byte
		version int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT value, version FROM state WHERE key = ?`, key).Scan(&value, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("sqlite: get state %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: get state %q: %w", key, err)
	}
	return backend.NonNil(value), version, nil
}

// PutState implements store.Store. State writes do not change the store revision and are not
// announced to watchers: the revision tracks resources, which is what rebuilds depend on.
func (s *Store) PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (int64, error) {
	if err := backend.ValidateState(key, expectedVersion); err != nil {
		return 0, fmt.Errorf("sqlite: put state: %w", err)
	}
	value = backend.NonNil(value)
	var (
		q    string
		args []any
	)
	switch expectedVersion {
	case 0:
		q = `INSERT INTO state (key, value, version) VALUES (?, ?, 1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = state.version + 1
			RETURNING version`
		args = []any{key, value}
	case -1:
		q = `INSERT INTO state (key, value, version) VALUES (?, ?, 1)
			ON CONFLICT (key) DO NOTHING RETURNING version`
		args = []any{key, value}
	default:
		q = `UPDATE state SET value = ?, version = version + 1 WHERE key = ? AND version = ? RETURNING version`
		args = []any{value, key, expectedVersion}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// An explicit (IMMEDIATE) transaction takes the write lock up front: an autocommit write
	// could instead fail with SQLITE_BUSY_SNAPSHOT when another process commits first.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put state %q: begin: %w", key, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var version int64
	err = tx.QueryRowContext(ctx, q, args...).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: put state %q: expected version %d: %w", key, expectedVersion, store.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: put state %q: %w", key, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: put state %q: commit: %w", key, err)
	}
	return version, nil
}
