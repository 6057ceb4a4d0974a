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

// DeleteState implements store.Store.
func (s *Store) DeleteState(ctx context.Context, key string, expectedVersion int64) error {
	if err := backend.ValidateStateDelete(key, expectedVersion); err != nil {
		return fmt.Errorf("sqlite: delete state: %w", err)
	}
	_, err := s.writeStates(ctx, []store.StateWrite{{Key: key, ExpectedVersion: expectedVersion, Delete: true}}, []int{0}, nil)
	return err
}

// PutStates implements store.Store: one IMMEDIATE transaction, statements prepared once for
// the batch.
func (s *Store) PutStates(ctx context.Context, writes []store.StateWrite) ([]int64, error) {
	order, err := backend.ValidateStates(writes)
	if err != nil {
		return nil, fmt.Errorf("sqlite: put states: %w", err)
	}
	if len(writes) == 0 {
		return []int64{}, nil
	}
	return s.writeStates(ctx, writes, order, nil)
}

// State statements, by what a write does.
const (
	stateUpsert = `INSERT INTO state (key, value, version) VALUES (?, ?, 1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = state.version + 1
		RETURNING version`
	stateCreate = `INSERT INTO state (key, value, version) VALUES (?, ?, 1)
		ON CONFLICT (key) DO NOTHING RETURNING version`
	stateUpdate    = `UPDATE state SET value = ?, version = version + 1 WHERE key = ? AND version = ? RETURNING version`
	stateDeleteAny = `DELETE FROM state WHERE key = ?`
	stateDeleteAt  = `DELETE FROM state WHERE key = ? AND version = ? RETURNING version`
	stateExists    = `SELECT 1 FROM state WHERE key = ?`
)

// writeStates runs validated writes in order, in one transaction. first, when given, runs in
// that transaction before any write and vetoes them all by failing (the lease fence).
func (s *Store) writeStates(ctx context.Context, writes []store.StateWrite, order []int, first func(*sql.Tx) error) ([]int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: put states: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if first != nil {
		if err := first(tx); err != nil {
			return nil, err
		}
	}
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	prepared := func(q string) (*sql.Stmt, error) {
		if st, ok := stmts[q]; ok {
			return st, nil
		}
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, err
		}
		stmts[q] = st
		return st, nil
	}
	versions := make([]int64, len(writes))
	for _, n := range order {
		w := writes[n]
		v, err := writeState(ctx, prepared, w)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		versions[n] = v
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: put states: commit: %w", err)
	}
	return versions, nil
}

func writeState(ctx context.Context, prepared func(string) (*sql.Stmt, error), w store.StateWrite) (int64, error) {
	op := "put"
	if w.Delete {
		op = "delete"
	}
	fail := func(err error) (int64, error) { return 0, fmt.Errorf("%s state %q: %w", op, w.Key, err) }
	var (
		q    string
		args []any
	)
	switch {
	case w.Delete && w.ExpectedVersion == 0:
		st, err := prepared(stateDeleteAny)
		if err != nil {
			return fail(err)
		}
		if _, err := st.ExecContext(ctx, w.Key); err != nil {
			return fail(err)
		}
		return 0, nil
	case w.Delete:
		q, args = stateDeleteAt, []any{w.Key, w.ExpectedVersion}
	case w.ExpectedVersion == 0:
		q, args = stateUpsert, []any{w.Key, backend.NonNil(w.Value)}
	case w.ExpectedVersion == -1:
		q, args = stateCreate, []any{w.Key, backend.NonNil(w.Value)}
	default:
		q, args = stateUpdate, []any{backend.NonNil(w.Value), w.Key, w.ExpectedVersion}
	}
	st, err := prepared(q)
	if err != nil {
		return fail(err)
	}
	var version int64
	err = st.QueryRowContext(ctx, args...).Scan(&version)
	if err == nil {
		if w.Delete {
			return 0, nil
		}
		return version, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	missing := false
	if w.Delete {
		// Absent, or at another version?
		st, err := prepared(stateExists)
		if err != nil {
			return fail(err)
		}
		var one int
		err = st.QueryRowContext(ctx, w.Key).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fail(err)
		}
		missing = errors.Is(err, sql.ErrNoRows)
	}
	return 0, backend.StateConflict(op, w.Key, w.ExpectedVersion, missing)
}
