package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

const recordColumns = `kind, mesh, name, spec, origin, version, created, modified`

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key store.Key) (_ store.Record, retErr error) {
	defer markUnavailable(&retErr)
	if err := backend.ValidateKey(key); err != nil {
		return store.Record{}, fmt.Errorf("postgres: get: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM resources
		WHERE kind = $1 AND mesh = $2 AND name = $3`, key.Kind, key.Mesh, key.Name)
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: get %s: %w", backend.KeyString(key), err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, fmt.Errorf("postgres: get %s: %w", backend.KeyString(key), store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: get %s: %w", backend.KeyString(key), err)
	}
	return rec, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, req store.ListRequest) (_ store.ListResponse, retErr error) {
	defer markUnavailable(&retErr)
	cur, err := backend.ValidateList(req)
	if err != nil {
		return store.ListResponse{}, fmt.Errorf("postgres: %w", err)
	}
	var (
		where = []string{"kind = $1"}
		args  = []any{req.Kind}
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if req.Mesh != "" {
		where = append(where, "mesh = "+arg(req.Mesh))
	}
	if cur.Set {
		where = append(where, "(mesh, name) > ("+arg(cur.Mesh)+", "+arg(cur.Name)+")")
	}
	q := `SELECT ` + recordColumns + ` FROM resources WHERE ` + strings.Join(where, " AND ") + ` ORDER BY mesh, name`
	if req.PageSize > 0 {
		q += ` LIMIT ` + arg(req.PageSize+1)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return store.ListResponse{}, fmt.Errorf("postgres: list %s: %w", req.Kind, err)
	}
	recs, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return store.ListResponse{}, fmt.Errorf("postgres: list %s: %w", req.Kind, err)
	}
	return backend.Page(recs, req.PageSize), nil
}

// All implements store.Store. REPEATABLE READ makes the revision and the records one snapshot.
func (s *Store) All(ctx context.Context) (_ store.Snapshot, retErr error) {
	defer markUnavailable(&retErr)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("postgres: all: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	var snap store.Snapshot
	if err := tx.QueryRow(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&snap.Revision); err != nil {
		return store.Snapshot{}, fmt.Errorf("postgres: all: read revision: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+recordColumns+` FROM resources ORDER BY kind, mesh, name`)
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("postgres: all: %w", err)
	}
	if snap.Records, err = pgx.CollectRows(rows, scanRecord); err != nil {
		return store.Snapshot{}, fmt.Errorf("postgres: all: %w", err)
	}
	return snap, nil
}

func scanRecord(row pgx.CollectableRow) (store.Record, error) {
	var rec store.Record
	if err := row.Scan(&rec.Kind, &rec.Mesh, &rec.Name, &rec.Spec, &rec.Origin, &rec.Version,
		&rec.CreationTime, &rec.ModificationTime); err != nil {
		return store.Record{}, err
	}
	if rec.Spec == nil {
		rec.Spec = []byte{}
	}
	rec.CreationTime = rec.CreationTime.UTC()
	rec.ModificationTime = rec.ModificationTime.UTC()
	return rec, nil
}
