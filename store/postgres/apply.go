package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// Apply implements store.Store. Locking the revision row first serialises every writer in every
// process: the version checks then read what is committed, so two conflicting applies yield one
// success and one ErrConflict, and revisions commit in increasing order.
func (s *Store) Apply(ctx context.Context, req store.ApplyRequest) (_ store.ApplyResult, retErr error) {
	defer markUnavailable(&retErr)
	if backend.IsEmpty(req) {
		var rev int64
		if err := s.pool.QueryRow(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err != nil {
			return store.ApplyResult{}, fmt.Errorf("postgres: apply: read revision: %w", err)
		}
		return store.ApplyResult{Revision: rev}, nil
	}
	// READ COMMITTED, whatever the server default: after waiting for the row lock each
	// statement must see the commit it waited for, which REPEATABLE READ would refuse.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("postgres: apply: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	res, err := backend.Apply(ctx, pgTx{tx}, req)
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("postgres: apply: %w", err)
	}
	// Delivered to listeners only if the transaction commits.
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(res.Revision, 10)); err != nil {
		return store.ApplyResult{}, fmt.Errorf("postgres: apply: notify: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.ApplyResult{}, fmt.Errorf("postgres: apply: commit: %w", err)
	}
	// Our own watchers need not wait for the notification's round trip.
	s.hub.Publish(res.Revision)
	return res, nil
}

type pgTx struct{ tx pgx.Tx }

func (t pgTx) Revision(ctx context.Context) (int64, error) {
	var rev int64
	err := t.tx.QueryRow(ctx, `SELECT value FROM revision WHERE id = 1 FOR UPDATE`).Scan(&rev)
	return rev, err
}

func (t pgTx) SetRevision(ctx context.Context, rev int64) error {
	_, err := t.tx.Exec(ctx, `UPDATE revision SET value = $1 WHERE id = 1`, rev)
	return err
}

func (t pgTx) Lookup(ctx context.Context, key store.Key) (int64, time.Time, bool, error) {
	var (
		version int64
		created time.Time
	)
	err := t.tx.QueryRow(ctx, `SELECT version, created FROM resources
		WHERE kind = $1 AND mesh = $2 AND name = $3`, key.Kind, key.Mesh, key.Name).Scan(&version, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, err
	}
	return version, created.UTC(), true, nil
}

func (t pgTx) Write(ctx context.Context, rec store.Record, existed bool) error {
	if existed {
		_, err := t.tx.Exec(ctx, `UPDATE resources SET spec = $1, origin = $2, version = $3, modified = $4
			WHERE kind = $5 AND mesh = $6 AND name = $7`,
			rec.Spec, rec.Origin, rec.Version, rec.ModificationTime, rec.Kind, rec.Mesh, rec.Name)
		return err
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO resources (`+recordColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		rec.Kind, rec.Mesh, rec.Name, rec.Spec, rec.Origin, rec.Version, rec.CreationTime, rec.ModificationTime)
	return err
}

func (t pgTx) Delete(ctx context.Context, key store.Key) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM resources WHERE kind = $1 AND mesh = $2 AND name = $3`,
		key.Kind, key.Mesh, key.Name)
	return err
}
