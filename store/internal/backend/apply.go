package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/meshgate/meshgate/store"
)

// Tx is the slice of a backend write transaction that Apply needs. The backend must already
// hold whatever lock serialises writers, so that what Lookup reads stays true until commit.
type Tx interface {
	Revision(ctx context.Context) (int64, error)
	SetRevision(ctx context.Context, rev int64) error
	// Lookup reports the stored version and creation time of key; found is false if absent.
	Lookup(ctx context.Context, key store.Key) (version int64, created time.Time, found bool, err error)
	// Write inserts rec, or updates it when existed is true (keeping the stored creation time).
	Write(ctx context.Context, rec store.Record, existed bool) error
	Delete(ctx context.Context, key store.Key) error
}

// Now is the timestamp backends store. Microseconds because PostgreSQL keeps no more, and
// both backends must return the same times they were given; UTC and without a monotonic
// reading so a returned Record compares equal to the one read back later.
func Now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// IsEmpty reports a request with nothing to do; it commits nothing and bumps no revision.
func IsEmpty(req store.ApplyRequest) bool {
	return len(req.Puts) == 0 && len(req.Deletes) == 0
}

// Apply checks every expected version and then writes everything within tx. Every record it
// writes gets the new revision as its version: versions then never repeat for a key, even
// across delete and re-create, so a stale ETag can never match a newer incarnation.
// On error the caller must roll back.
func Apply(ctx context.Context, tx Tx, req store.ApplyRequest) (store.ApplyResult, error) {
	if err := ValidateApply(req); err != nil {
		return store.ApplyResult{}, err
	}
	rev, err := tx.Revision(ctx)
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("read revision: %w", err)
	}
	newRev := rev + 1
	now := Now()

	type prior struct {
		created time.Time
		exists  bool
	}
	priors := make([]prior, len(req.Puts))
	for i, p := range req.Puts {
		v, created, found, err := tx.Lookup(ctx, p.Key)
		if err != nil {
			return store.ApplyResult{}, fmt.Errorf("put %s: %w", KeyString(p.Key), err)
		}
		if !CheckVersion(p.ExpectedVersion, v, found) {
			return store.ApplyResult{}, conflict("put", p.Key, p.ExpectedVersion, v, found)
		}
		priors[i] = prior{created: created, exists: found}
	}
	for _, d := range req.Deletes {
		v, _, found, err := tx.Lookup(ctx, d.Key)
		if err != nil {
			return store.ApplyResult{}, fmt.Errorf("delete %s: %w", KeyString(d.Key), err)
		}
		if !found {
			return store.ApplyResult{}, fmt.Errorf("delete %s: %w", KeyString(d.Key), store.ErrNotFound)
		}
		if !CheckVersion(d.ExpectedVersion, v, found) {
			return store.ApplyResult{}, conflict("delete", d.Key, d.ExpectedVersion, v, found)
		}
	}

	res := store.ApplyResult{Records: make([]store.Record, 0, len(req.Puts)), Revision: newRev}
	for i, p := range req.Puts {
		rec := store.Record{
			Key:              p.Key,
			Spec:             nonNil(p.Spec),
			Origin:           p.Origin,
			Version:          newRev,
			CreationTime:     now,
			ModificationTime: now,
		}
		if priors[i].exists {
			rec.CreationTime = priors[i].created
		}
		if err := tx.Write(ctx, rec, priors[i].exists); err != nil {
			return store.ApplyResult{}, fmt.Errorf("put %s: %w", KeyString(p.Key), err)
		}
		res.Records = append(res.Records, rec)
	}
	for _, d := range req.Deletes {
		if err := tx.Delete(ctx, d.Key); err != nil {
			return store.ApplyResult{}, fmt.Errorf("delete %s: %w", KeyString(d.Key), err)
		}
	}
	if err := tx.SetRevision(ctx, newRev); err != nil {
		return store.ApplyResult{}, fmt.Errorf("write revision: %w", err)
	}
	return res, nil
}

func conflict(op string, key store.Key, expected, stored int64, exists bool) error {
	if !exists {
		return fmt.Errorf("%s %s: expected version %d, record does not exist: %w", op, KeyString(key), expected, store.ErrConflict)
	}
	if expected == -1 {
		return fmt.Errorf("%s %s: expected no record, found version %d: %w", op, KeyString(key), stored, store.ErrConflict)
	}
	return fmt.Errorf("%s %s: expected version %d, found %d: %w", op, KeyString(key), expected, stored, store.ErrConflict)
}

// nonNil keeps NOT NULL columns happy: drivers send a nil slice as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// NonNil is nonNil for state values.
func NonNil(b []byte) []byte { return nonNil(b) }
