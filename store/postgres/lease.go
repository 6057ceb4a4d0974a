package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

var _ store.Leaser = (*Store)(nil)

// leaseAcquire takes a free or expired lease, or extends the caller's own, in one statement:
// ON CONFLICT locks the row, and under READ COMMITTED re-reads a row another replica changed
// meanwhile, so two replicas racing for an expired lease get one winner. The fence moves on
// whenever the lease changes hands or lapsed, never on a renewal in time. Times are the
// server's (clock_timestamp(), not the client's), so replicas' clocks do not matter.
const leaseAcquire = `INSERT INTO leases AS l (name, holder, fence, expires)
	VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 microsecond')
	ON CONFLICT (name) DO UPDATE SET
		holder  = excluded.holder,
		fence   = CASE WHEN l.holder = excluded.holder AND l.expires > clock_timestamp()
		               THEN l.fence ELSE l.fence + 1 END,
		expires = excluded.expires
	WHERE l.holder = excluded.holder OR l.expires <= clock_timestamp()
	RETURNING holder, fence, expires, clock_timestamp()`

const leaseGet = `SELECT holder, fence, expires, clock_timestamp() FROM leases WHERE name = $1`

// AcquireLease implements store.Leaser.
func (s *Store) AcquireLease(ctx context.Context, req store.LeaseRequest) (_ store.Lease, retErr error) {
	defer markUnavailable(&retErr)
	if err := store.ValidateLease(req); err != nil {
		return store.Lease{}, fmt.Errorf("postgres: acquire lease: %w", err)
	}
	l := store.Lease{Name: req.Name}
	err := s.pool.QueryRow(ctx, leaseAcquire, req.Name, req.Holder, req.TTL.Microseconds()).
		Scan(&l.Holder, &l.Fence, &l.Expires, &l.Now)
	if errors.Is(err, pgx.ErrNoRows) {
		// Held by another: say by whom.
		return s.GetLease(ctx, req.Name)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("postgres: acquire lease %q: %w", req.Name, err)
	}
	return utcLease(l), nil
}

// ReleaseLease implements store.Leaser: the lease expires now, its fence unchanged; the next
// holder's acquisition moves the fence on.
func (s *Store) ReleaseLease(ctx context.Context, f store.Fence) (retErr error) {
	defer markUnavailable(&retErr)
	_, err := s.pool.Exec(ctx, `UPDATE leases SET expires = clock_timestamp()
		WHERE name = $1 AND holder = $2 AND fence = $3 AND expires > clock_timestamp()`, f.Name, f.Holder, f.Token)
	if err != nil {
		return fmt.Errorf("postgres: release lease %q: %w", f.Name, err)
	}
	return nil
}

// GetLease implements store.Leaser.
func (s *Store) GetLease(ctx context.Context, name string) (_ store.Lease, retErr error) {
	defer markUnavailable(&retErr)
	l := store.Lease{Name: name}
	err := s.pool.QueryRow(ctx, leaseGet, name).Scan(&l.Holder, &l.Fence, &l.Expires, &l.Now)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Lease{}, fmt.Errorf("postgres: lease %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("postgres: lease %q: %w", name, err)
	}
	return utcLease(l), nil
}

// CountLeases implements store.Leaser.
func (s *Store) CountLeases(ctx context.Context, prefix string) (_ int, retErr error) {
	defer markUnavailable(&retErr)
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM leases WHERE starts_with(name, $1) AND expires > clock_timestamp()`, prefix).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count leases %q: %w", prefix, err)
	}
	return n, nil
}

// PutStatesFenced implements store.Leaser: PutStates's transaction, with the fence checked
// first.
func (s *Store) PutStatesFenced(ctx context.Context, f store.Fence, writes []store.StateWrite) (_ []int64, retErr error) {
	defer markUnavailable(&retErr)
	order, err := backend.ValidateStates(writes)
	if err != nil {
		return nil, fmt.Errorf("postgres: put states: %w", err)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("postgres: put states: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	// Even an empty batch answers whether the fence still holds.
	if err := checkFence(ctx, tx, f); err != nil {
		return nil, fmt.Errorf("postgres: put states: %w", err)
	}
	versions := make([]int64, len(writes))
	for start := 0; start < len(order); start += statePipeline {
		chunk := order[start:min(start+statePipeline, len(order))]
		failed, err := sendStates(ctx, tx, writes, chunk, versions)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if failed >= 0 {
			return nil, fmt.Errorf("postgres: %w", fencedConflict(ctx, tx, writes[failed]))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: put states: commit: %w", err)
	}
	return versions, nil
}

// fencedConflict is the error of a write whose version check failed, as PutStates words it.
func fencedConflict(ctx context.Context, tx pgx.Tx, w store.StateWrite) error {
	op, missing := "put", false
	if w.Delete {
		op = "delete"
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM state WHERE key = $1`, w.Key).Scan(&one)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("delete state %q: %w", w.Key, err)
		}
		missing = errors.Is(err, pgx.ErrNoRows)
	}
	return backend.StateConflict(op, w.Key, w.ExpectedVersion, missing)
}

// checkFence fails with store.ErrFenced unless f is current. FOR SHARE holds the lease row
// until tx ends: a replica taking the lease over (an UPDATE of that row) waits for this write
// to commit, so no write under an old fence can land after the new holder's first one.
func checkFence(ctx context.Context, tx pgx.Tx, f store.Fence) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM leases
		WHERE name = $1 AND holder = $2 AND fence = $3 AND expires > clock_timestamp() FOR SHARE`,
		f.Name, f.Holder, f.Token).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("lease %q fence %d of %s: %w", f.Name, f.Token, f.Holder, store.ErrFenced)
	}
	if err != nil {
		return fmt.Errorf("checking lease %q: %w", f.Name, err)
	}
	return nil
}

func utcLease(l store.Lease) store.Lease {
	l.Expires, l.Now = l.Expires.UTC(), l.Now.UTC()
	return l
}
