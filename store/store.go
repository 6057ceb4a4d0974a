// Package store persists resources and control-plane state. Two implementations pass one
// contract test suite: an embedded SQLite database (the default, in --data-dir) and PostgreSQL
// (--store postgres://...). Every write is one transaction: a rejected apply changes nothing.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record's version is not the one the writer expected.
	ErrConflict = errors.New("version conflict")
	// ErrUnavailable: the store could not be reached (connection refused or lost, the server
	// shutting down or starting up, no answer in time). Nothing was read or written, or for a
	// write whose commit was cut off, it is unknown: the caller may retry once it is back.
	ErrUnavailable = errors.New("store unavailable")
)

// Key identifies a resource. Mesh is empty for Mesh resources.
type Key struct {
	Kind string
	Mesh string
	Name string
}

// Record is one stored resource.
type Record struct {
	Key
	// Spec is the resource in Kuma's universal form as JSON (`type`, `mesh`, `name` and the spec
	// fields), exactly what the API returns and the decoder reads.
	Spec []byte
	// Origin says who manages the record: "api" or "file:<path>" for `--resources` files, so a
	// file removed from the directory removes only what it created.
	Origin string
	// Version increases on every write of this record; it is the API's ETag.
	Version          int64
	CreationTime     time.Time
	ModificationTime time.Time
}

// Put writes one record. ExpectedVersion 0 writes unconditionally; -1 requires that the record
// does not exist; any other value requires that the stored version is exactly that.
type Put struct {
	Key             Key
	Spec            []byte
	Origin          string
	ExpectedVersion int64
}

// Delete removes one record, with ExpectedVersion as for Put (-1 is not allowed).
type Delete struct {
	Key             Key
	ExpectedVersion int64
}

// ApplyRequest is one transaction.
type ApplyRequest struct {
	Puts    []Put
	Deletes []Delete
}

// ApplyResult returns the written records (with their new versions) and the store revision the
// transaction produced.
type ApplyResult struct {
	Records  []Record
	Revision int64
}

// ListRequest lists records of one kind, optionally in one mesh, in (mesh, name) order.
type ListRequest struct {
	Kind string
	// Mesh empty lists every mesh.
	Mesh string
	// PageSize 0 means no limit.
	PageSize int
	// PageToken continues a previous listing (its NextPageToken).
	PageToken string
}

type ListResponse struct {
	Records       []Record
	NextPageToken string
}

// Snapshot is every record at one revision.
type Snapshot struct {
	Records  []Record
	Revision int64
}

// StateWrite is one write of PutStates: Value under Key, or with Delete the removal of Key;
// ExpectedVersion as for PutState or DeleteState.
type StateWrite struct {
	Key             string
	Value           []byte
	ExpectedVersion int64
	Delete          bool
}

// Store is the persistent state of the control plane.
type Store interface {
	Get(ctx context.Context, key Key) (Record, error)
	List(ctx context.Context, req ListRequest) (ListResponse, error)
	// All returns every record, consistently, at the current revision.
	All(ctx context.Context) (Snapshot, error)
	// Apply commits all puts and deletes, or none (ErrConflict, ErrNotFound for a delete of a
	// missing record, or another error).
	Apply(ctx context.Context, req ApplyRequest) (ApplyResult, error)
	// Watch sends the new revision after every committed change (from this process or, for
	// PostgreSQL, any other), coalescing bursts; the channel closes when ctx is done. After
	// its connection was lost and restored, PostgreSQL sends the current revision again, even
	// if unchanged, so that a reader that failed during the outage reads it again.
	Watch(ctx context.Context) (<-chan int64, error)

	// GetState, PutState, DeleteState and PutStates keep control-plane state that is not a
	// resource (CA keys, VIP allocations, token signing keys, issued certificates), with the
	// same versioning as records. State writes do not change the store revision and are not
	// announced to watchers.
	GetState(ctx context.Context, key string) (value []byte, version int64, err error)
	// PutState writes one entry; expectedVersion as for Put: 0 unconditionally, -1 only if
	// absent (ErrConflict otherwise), any other value only at exactly that version (ErrConflict
	// otherwise, also when the entry is absent).
	PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (version int64, err error)
	// DeleteState removes one entry. expectedVersion 0 deletes unconditionally and is a no-op
	// (nil) when the entry is absent, so it can be repeated; any other positive value requires
	// the entry at exactly that version: ErrNotFound when it is absent, ErrConflict when its
	// version differs. -1 is invalid (an error that is neither ErrConflict nor ErrNotFound).
	DeleteState(ctx context.Context, key string, expectedVersion int64) error
	// PutStates applies the writes in one transaction, all or none, each as PutState or
	// DeleteState would. It returns the new version of each write, in order (0 for a delete).
	// When a write's version check fails nothing is written, and the error (ErrConflict or
	// ErrNotFound) names that write's key; with several failing, the first in key order. A key
	// may appear only once; an empty batch does nothing.
	PutStates(ctx context.Context, writes []StateWrite) (versions []int64, err error)

	Close() error
}
