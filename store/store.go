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
	// PostgreSQL, any other), coalescing bursts; the channel closes when ctx is done.
	Watch(ctx context.Context) (<-chan int64, error)

	// GetState and PutState keep control-plane state that is not a resource (CA keys, VIP
	// allocations, token signing keys), with the same versioning as records.
	GetState(ctx context.Context, key string) (value []byte, version int64, err error)
	PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (version int64, err error)

	Close() error
}
