package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// Apply implements store.Store: one IMMEDIATE transaction, then a notification to watchers.
func (s *Store) Apply(ctx context.Context, req store.ApplyRequest) (store.ApplyResult, error) {
	if backend.IsEmpty(req) {
		rev, err := s.revision(ctx, s.db)
		if err != nil {
			return store.ApplyResult{}, fmt.Errorf("sqlite: apply: %w", err)
		}
		return store.ApplyResult{Revision: rev}, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("sqlite: apply: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	res, err := backend.Apply(ctx, sqlTx{tx}, req)
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("sqlite: apply: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.ApplyResult{}, fmt.Errorf("sqlite: apply: commit: %w", err)
	}
	// Still under writeMu, so watchers hear revisions in commit order.
	s.hub.Publish(res.Revision)
	return res, nil
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Revision(ctx context.Context) (int64, error) {
	var rev int64
	err := t.tx.QueryRowContext(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev)
	return rev, err
}

func (t sqlTx) SetRevision(ctx context.Context, rev int64) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE revision SET value = ? WHERE id = 1`, rev)
	return err
}

func (t sqlTx) Lookup(ctx context.Context, key store.Key) (int64, time.Time, bool, error) {
	var version, created int64
	err := t.tx.QueryRowContext(ctx, `SELECT version, created FROM resources
		WHERE kind = ? AND mesh = ? AND name = ?`, key.Kind, key.Mesh, key.Name).Scan(&version, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, err
	}
	return version, fromNanos(created), true, nil
}

func (t sqlTx) Write(ctx context.Context, rec store.Record, existed bool) error {
	if existed {
		_, err := t.tx.ExecContext(ctx, `UPDATE resources SET spec = ?, origin = ?, version = ?, modified = ?
			WHERE kind = ? AND mesh = ? AND name = ?`,
			rec.Spec, rec.Origin, rec.Version, rec.ModificationTime.UnixNano(), rec.Kind, rec.Mesh, rec.Name)
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO resources (`+recordColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.Kind, rec.Mesh, rec.Name, rec.Spec, rec.Origin, rec.Version,
		rec.CreationTime.UnixNano(), rec.ModificationTime.UnixNano())
	return err
}

func (t sqlTx) Delete(ctx context.Context, key store.Key) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM resources WHERE kind = ? AND mesh = ? AND name = ?`,
		key.Kind, key.Mesh, key.Name)
	return err
}
