// Package kubestate is the store of Kubernetes mode: resources (the mirror of the cluster's
// objects) stay in another store.Store, the embedded SQLite one, and meshgate's own state (CA
// keys, VIP allocations, token signing keys) lives in core/v1 Secrets in meshgate's namespace,
// one Secret per state key, so that it survives the pod and its emptyDir.
//
// What is atomic, and against whom:
//   - A single write (PutState, DeleteState) is one object: atomic, with optimistic
//     concurrency through the Secret's resourceVersion, against every writer.
//   - A batch (PutStates) is not one object, and Kubernetes has no multi-object transaction.
//     Within one Store, state writes and lease changes are serialised by one lock, and state
//     reads wait for it (until their context ends; Ping, the health check, does not wait), so
//     this process sees a batch whole or not at all: every version is checked before anything
//     is written, and a write that fails part-way (the API server unreachable or refusing it,
//     the object changed by another process meanwhile) is undone by restoring what the batch
//     had already written. An undone entry gets its old value back at a new version, so the
//     undo reuses no version a reader may have seen.
//   - Against another process (a second replica, kubectl) a batch is not atomic. That process
//     can read a batch half-written, while it is written or undone, and even write on top of
//     one of its values before the undo, which then leaves that later write in place. If the
//     API server is lost mid-batch the undo may fail too: the error then says that the batch is
//     partly written. Version checks still hold entry by entry: a write at a version another
//     process has moved on from fails, so no single entry loses an update.
//   - Versions are a counter per entry in an annotation, 1 on creation, as in the SQL stores
//     (which also start a re-created entry at 1 again).
//
// Leases are those of the records store (store.Leaser): with the embedded SQLite store they
// are this process's own, so Kubernetes mode with Secrets is for one replica. Several
// replicas would each hold the singleton lease; they need --store postgres.
package kubestate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/meshgate/meshgate/store"
)

// Options configures New.
type Options struct {
	// Client reaches the API server; it needs get, list, create, update and delete on Secrets
	// in Namespace.
	Client kubernetes.Interface
	// Namespace is meshgate's own: the state Secrets live there.
	Namespace string
	// Records keeps resources and leases (in Kubernetes mode, the embedded SQLite store). The
	// Store closes it. It must implement store.Leaser.
	Records store.Store
	// Logger reports undo failures; nil: slog.Default().
	Logger *slog.Logger
}

// Store is a store.Store and store.Leaser: records and leases in Options.Records, state in
// Secrets. It is safe for concurrent use.
type Store struct {
	client    kubernetes.Interface
	namespace string
	records   store.Store
	leaser    store.Leaser
	log       *slog.Logger
	// gate serialises state writes and lease changes of this Store (exclusive), and keeps state
	// reads (shared) from seeing a batch half-written; see the package comment.
	gate   gate
	closed atomic.Bool
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Leaser = (*Store)(nil)
)

// ErrClosed is returned by state operations after Close.
var ErrClosed = errors.New("kubestate: store closed")

// New returns the store. It lists the state Secrets once, so that a missing namespace or
// missing RBAC permissions fail here, naming the namespace, rather than at the first write.
func New(ctx context.Context, opts Options) (*Store, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("kubestate: no Kubernetes client")
	case opts.Namespace == "":
		return nil, errors.New("kubestate: namespace is empty")
	case opts.Records == nil:
		return nil, errors.New("kubestate: no records store")
	}
	leaser, ok := opts.Records.(store.Leaser)
	if !ok {
		return nil, fmt.Errorf("kubestate: records store %T holds no leases (store.Leaser)", opts.Records)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{client: opts.Client, namespace: opts.Namespace, records: opts.Records, leaser: leaser, log: log}
	_, err := s.secrets().List(ctx, metav1.ListOptions{LabelSelector: StateLabel + "=true", Limit: 1})
	if err != nil {
		return nil, apiError(fmt.Sprintf("kubestate: listing state Secrets in namespace %s", opts.Namespace), err)
	}
	return s, nil
}

// Namespace is where the state Secrets are.
func (s *Store) Namespace() string { return s.namespace }

// Close closes the records store. It is safe to call more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.records.Close()
}

// Get implements store.Store (records).
func (s *Store) Get(ctx context.Context, key store.Key) (store.Record, error) {
	return s.records.Get(ctx, key)
}

// List implements store.Store (records).
func (s *Store) List(ctx context.Context, req store.ListRequest) (store.ListResponse, error) {
	return s.records.List(ctx, req)
}

// All implements store.Store (records).
func (s *Store) All(ctx context.Context) (store.Snapshot, error) { return s.records.All(ctx) }

// Apply implements store.Store (records).
func (s *Store) Apply(ctx context.Context, req store.ApplyRequest) (store.ApplyResult, error) {
	return s.records.Apply(ctx, req)
}

// Watch implements store.Store (records: state writes are not announced, as the contract says).
func (s *Store) Watch(ctx context.Context) (<-chan int64, error) { return s.records.Watch(ctx) }
