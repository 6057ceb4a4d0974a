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
func (s *Store) GetState(ctx context.Context, key string) (_ []byte, _ int64, retErr error) {
	defer markUnavailable(&retErr)
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
func (s *Store) PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (_ int64, retErr error) {
	defer markUnavailable(&retErr)
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

// DeleteState implements store.Store.
func (s *Store) DeleteState(ctx context.Context, key string, expectedVersion int64) (retErr error) {
	defer markUnavailable(&retErr)
	if err := backend.ValidateStateDelete(key, expectedVersion); err != nil {
		return fmt.Errorf("postgres: delete state: %w", err)
	}
	if expectedVersion == 0 {
		if _, err := s.pool.Exec(ctx, stateDeleteAny, key); err != nil {
			return fmt.Errorf("postgres: delete state %q: %w", key, err)
		}
		return nil
	}
	_, err := s.PutStates(ctx, []store.StateWrite{{Key: key, ExpectedVersion: expectedVersion, Delete: true}})
	return err
}

// statePipeline bounds the statements sent to the server at once within a batch.
const statePipeline = 1000

// State statements, by what a write does; as PutState's, each is atomic on its own, and the
// transaction holds the locks of the rows it wrote until it ends.
const (
	stateUpsert = `INSERT INTO state (key, value, version) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = state.version + 1
		RETURNING version`
	stateCreate = `INSERT INTO state (key, value, version) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO NOTHING RETURNING version`
	stateUpdate    = `UPDATE state SET value = $1, version = version + 1 WHERE key = $2 AND version = $3 RETURNING version`
	stateDeleteAny = `DELETE FROM state WHERE key = $1 RETURNING 0`
	stateDeleteAt  = `DELETE FROM state WHERE key = $1 AND version = $2 RETURNING 0`
)

// PutStates implements store.Store: one READ COMMITTED transaction, its statements pipelined.
// It neither locks the revision nor notifies: state writes do not change the revision, as
// PutState's do not. The writes run in key order, so two batches over the same keys wait for
// each other instead of deadlocking.
func (s *Store) PutStates(ctx context.Context, writes []store.StateWrite) (_ []int64, retErr error) {
	defer markUnavailable(&retErr)
	order, err := backend.ValidateStates(writes)
	if err != nil {
		return nil, fmt.Errorf("postgres: put states: %w", err)
	}
	if len(writes) == 0 {
		return []int64{}, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("postgres: put states: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	versions := make([]int64, len(writes))
	for start := 0; start < len(order); start += statePipeline {
		chunk := order[start:min(start+statePipeline, len(order))]
		failed, err := sendStates(ctx, tx, writes, chunk, versions)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if failed >= 0 {
			w := writes[failed]
			missing := false
			if w.Delete {
				// Absent, or at another version?
				var one int
				err := tx.QueryRow(ctx, `SELECT 1 FROM state WHERE key = $1`, w.Key).Scan(&one)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return nil, fmt.Errorf("postgres: delete state %q: %w", w.Key, err)
				}
				missing = errors.Is(err, pgx.ErrNoRows)
			}
			op := "put"
			if w.Delete {
				op = "delete"
			}
			return nil, fmt.Errorf("postgres: %w", backend.StateConflict(op, w.Key, w.ExpectedVersion, missing))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: put states: commit: %w", err)
	}
	return versions, nil
}

// sendStates runs the writes at the indexes in chunk as one pipeline, filling in versions.
// It returns the index of the first write whose version check failed, or -1.
func sendStates(ctx context.Context, tx pgx.Tx, writes []store.StateWrite, chunk []int, versions []int64) (int, error) {
	var b pgx.Batch
	for _, n := range chunk {
		w := writes[n]
		switch {
		case w.Delete && w.ExpectedVersion == 0:
			b.Queue(stateDeleteAny, w.Key)
		case w.Delete:
			b.Queue(stateDeleteAt, w.Key, w.ExpectedVersion)
		case w.ExpectedVersion == 0:
			b.Queue(stateUpsert, w.Key, backend.NonNil(w.Value))
		case w.ExpectedVersion == -1:
			b.Queue(stateCreate, w.Key, backend.NonNil(w.Value))
		default:
			b.Queue(stateUpdate, backend.NonNil(w.Value), w.Key, w.ExpectedVersion)
		}
	}
	br := tx.SendBatch(ctx, &b)
	failed := -1
	for _, n := range chunk {
		w := writes[n]
		var v int64
		err := br.QueryRow().Scan(&v)
		switch {
		case err == nil:
			versions[n] = v
		case errors.Is(err, pgx.ErrNoRows) && w.Delete && w.ExpectedVersion == 0:
			// Already absent: nothing to do.
		case errors.Is(err, pgx.ErrNoRows):
			if failed < 0 {
				failed = n
			}
		default:
			br.Close()
			op := "put"
			if w.Delete {
				op = "delete"
			}
			return -1, fmt.Errorf("%s state %q: %w", op, w.Key, err)
		}
	}
	if err := br.Close(); err != nil {
		return -1, fmt.Errorf("put states: %w", err)
	}
	return failed, nil
}
