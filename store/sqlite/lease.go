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

// Leases in SQLite follow PostgreSQL's rules (the same table, the same fence moves), so a
// standalone process runs the code paths of a replica; it is the only holder there is, so it
// always wins. Times are this process's clock: one file has one process writing it, so a
// lease left live by an earlier process on the file (killed before it could release it) is
// free at once: only holders that took a lease through this Store count as live, and a
// standalone control plane restarted after a crash does its singleton work straight away.
var _ store.Leaser = (*Store)(nil)

// AcquireLease implements store.Leaser.
func (s *Store) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if err := store.ValidateLease(req); err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q: begin: %w", req.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	now := time.Now()
	cur, err := readLease(ctx, tx, req.Name, now)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q: %w", req.Name, err)
	}
	live := found && cur.Expires.After(now) && s.leaseHolders[cur.Holder]
	if live && cur.Holder != req.Holder {
		return cur, nil // held by another
	}
	next := store.Lease{Name: req.Name, Holder: req.Holder, Fence: 1, Expires: now.Add(req.TTL).UTC(), Now: now.UTC()}
	switch {
	case live:
		next.Fence = cur.Fence // renewed in time
	case found:
		next.Fence = cur.Fence + 1 // changes hands, or lapsed
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, fence, expires) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, fence = excluded.fence, expires = excluded.expires`,
		next.Name, next.Holder, next.Fence, next.Expires.UnixNano()); err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q: %w", req.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q: commit: %w", req.Name, err)
	}
	if s.leaseHolders == nil {
		s.leaseHolders = map[string]bool{}
	}
	s.leaseHolders[req.Holder] = true
	return next, nil
}

// ReleaseLease implements store.Leaser.
func (s *Store) ReleaseLease(ctx context.Context, f store.Fence) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := time.Now().UnixNano()
	if _, err := s.db.ExecContext(ctx, `UPDATE leases SET expires = ?
		WHERE name = ? AND holder = ? AND fence = ? AND expires > ?`, now, f.Name, f.Holder, f.Token, now); err != nil {
		return fmt.Errorf("sqlite: release lease %q: %w", f.Name, err)
	}
	return nil
}

// GetLease implements store.Leaser.
func (s *Store) GetLease(ctx context.Context, name string) (store.Lease, error) {
	l, err := readLease(ctx, s.db, name, time.Now())
	if err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: lease %q: %w", name, err)
	}
	return l, nil
}

// CountLeases implements store.Leaser. As in AcquireLease, only holders that took their lease
// through this Store count: the others were earlier processes on the file.
func (s *Store) CountLeases(ctx context.Context, prefix string) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT holder FROM leases WHERE substr(name, 1, ?) = ? AND expires > ?`,
		len(prefix), prefix, time.Now().UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: count leases %q: %w", prefix, err)
	}
	defer rows.Close()
	var holders []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return 0, fmt.Errorf("sqlite: count leases %q: %w", prefix, err)
		}
		holders = append(holders, h)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: count leases %q: %w", prefix, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n := 0
	for _, h := range holders {
		if s.leaseHolders[h] {
			n++
		}
	}
	return n, nil
}

func readLease(ctx context.Context, q queryer, name string, now time.Time) (store.Lease, error) {
	l := store.Lease{Name: name, Now: now.UTC()}
	var expires int64
	err := q.QueryRowContext(ctx, `SELECT holder, fence, expires FROM leases WHERE name = ?`, name).
		Scan(&l.Holder, &l.Fence, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Lease{}, store.ErrNotFound
	}
	if err != nil {
		return store.Lease{}, err
	}
	l.Expires = time.Unix(0, expires).UTC()
	return l, nil
}

// PutStatesFenced implements store.Leaser: writeStates's transaction with the fence checked
// first, under the same write lock, so the lease cannot change hands before the commit.
func (s *Store) PutStatesFenced(ctx context.Context, f store.Fence, writes []store.StateWrite) ([]int64, error) {
	order, err := backend.ValidateStates(writes)
	if err != nil {
		return nil, fmt.Errorf("sqlite: put states: %w", err)
	}
	return s.writeStates(ctx, writes, order, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM leases WHERE name = ? AND holder = ? AND fence = ? AND expires > ?`,
			f.Name, f.Holder, f.Token, time.Now().UnixNano()).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: put states: lease %q fence %d of %s: %w", f.Name, f.Token, f.Holder, store.ErrFenced)
		}
		if err != nil {
			return fmt.Errorf("sqlite: put states: checking lease %q: %w", f.Name, err)
		}
		return nil
	})
}
