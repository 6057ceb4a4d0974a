package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

const recordColumns = `kind, mesh, name, spec, origin, version, created, modified`

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Record, error) {
	if err := backend.ValidateKey(key); err != nil {
		return store.Record{}, fmt.Errorf("sqlite: get: %w", err)
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM resources
		WHERE kind = ? AND mesh = ? AND name = ?`, key.Kind, key.Mesh, key.Name)
	rec, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("sqlite: get %s: %w", backend.KeyString(key), store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: get %s: %w", backend.KeyString(key), err)
	}
	return rec, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, req store.ListRequest) (store.ListResponse, error) {
	cur, err := backend.ValidateList(req)
	if err != nil {
		return store.ListResponse{}, fmt.Errorf("sqlite: %w", err)
	}
	var (
		where = []string{"kind = ?"}
		args  = []any{req.Kind}
	)
	if req.Mesh != "" {
		where = append(where, "mesh = ?")
		args = append(args, req.Mesh)
	}
	if cur.Set {
		where = append(where, "(mesh, name) > (?, ?)")
		args = append(args, cur.Mesh, cur.Name)
	}
	q := `SELECT ` + recordColumns + ` FROM resources WHERE ` + strings.Join(where, " AND ") + ` ORDER BY mesh, name`
	if req.PageSize > 0 {
		q += ` LIMIT ?`
		args = append(args, req.PageSize+1)
	}
	recs, err := queryRecords(ctx, s.db, q, args...)
	if err != nil {
		return store.ListResponse{}, fmt.Errorf("sqlite: list %s: %w", req.Kind, err)
	}
	return backend.Page(recs, req.PageSize), nil
}

// All implements store.Store. The revision and the records come from one read transaction,
// which in WAL mode sees a single committed state.
func (s *Store) All(ctx context.Context) (store.Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("sqlite: all: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rev, err := s.revision(ctx, tx)
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("sqlite: all: %w", err)
	}
	recs, err := queryRecords(ctx, tx, `SELECT `+recordColumns+` FROM resources ORDER BY kind, mesh, name`)
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("sqlite: all: %w", err)
	}
	return store.Snapshot{Records: recs, Revision: rev}, nil
}

type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryRecords(ctx context.Context, q rowsQueryer, query string, args ...any) ([]store.Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []store.Record
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (store.Record, error) {
	var (
		rec               store.Record
		created, modified int64
	)
	if err := sc.Scan(&rec.Kind, &rec.Mesh, &rec.Name, &rec.Spec, &rec.Origin, &rec.Version, &created, &modified); err != nil {
		return store.Record{}, err
	}
	if rec.Spec == nil {
		rec.Spec = []byte{}
	}
	rec.CreationTime = fromNanos(created)
	rec.ModificationTime = fromNanos(modified)
	return rec, nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
