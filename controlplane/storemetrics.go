package controlplane

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshgate/meshgate/store"
)

// meteredStore counts and times every store operation, so a slow or failing database shows on
// /metrics before it shows as stale configuration.
type meteredStore struct {
	store.Store
	ops *prometheus.HistogramVec
}

func newMeteredStore(s store.Store, reg prometheus.Registerer) (*meteredStore, error) {
	ops := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "meshgate_store_operation_seconds",
		Help:    "Store operations by operation and result (ok, not_found, conflict, error).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"op", "result"})
	if err := reg.Register(ops); err != nil {
		return nil, err
	}
	return &meteredStore{Store: s, ops: ops}, nil
}

func (m *meteredStore) observe(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, store.ErrNotFound):
		result = "not_found"
	case errors.Is(err, store.ErrConflict):
		result = "conflict"
	case err != nil:
		result = "error"
	}
	m.ops.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

func (m *meteredStore) Get(ctx context.Context, key store.Key) (r store.Record, err error) {
	defer func(start time.Time) { m.observe("get", start, err) }(time.Now())
	return m.Store.Get(ctx, key)
}

func (m *meteredStore) List(ctx context.Context, req store.ListRequest) (r store.ListResponse, err error) {
	defer func(start time.Time) { m.observe("list", start, err) }(time.Now())
	return m.Store.List(ctx, req)
}

func (m *meteredStore) All(ctx context.Context) (s store.Snapshot, err error) {
	defer func(start time.Time) { m.observe("all", start, err) }(time.Now())
	return m.Store.All(ctx)
}

func (m *meteredStore) Apply(ctx context.Context, req store.ApplyRequest) (r store.ApplyResult, err error) {
	defer func(start time.Time) { m.observe("apply", start, err) }(time.Now())
	return m.Store.Apply(ctx, req)
}

func (m *meteredStore) GetState(ctx context.Context, key string) (v []byte, ver int64, err error) {
	defer func(start time.Time) { m.observe("get_state", start, err) }(time.Now())
	return m.Store.GetState(ctx, key)
}

func (m *meteredStore) PutState(ctx context.Context, key string, value []byte, expected int64) (ver int64, err error) {
	defer func(start time.Time) { m.observe("put_state", start, err) }(time.Now())
	return m.Store.PutState(ctx, key, value, expected)
}

func (m *meteredStore) DeleteState(ctx context.Context, key string, expected int64) (err error) {
	defer func(start time.Time) { m.observe("delete_state", start, err) }(time.Now())
	return m.Store.DeleteState(ctx, key, expected)
}

func (m *meteredStore) PutStates(ctx context.Context, writes []store.StateWrite) (vers []int64, err error) {
	defer func(start time.Time) { m.observe("put_states", start, err) }(time.Now())
	return m.Store.PutStates(ctx, writes)
}
