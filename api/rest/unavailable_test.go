package rest

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// downStore fails every operation as an unreachable database does while down is set.
type downStore struct {
	*memStore
	down atomic.Bool
}

func (s *downStore) unreachable() error {
	if s.down.Load() {
		return fmt.Errorf("postgres: %w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable)
	}
	return nil
}

func (s *downStore) Get(ctx context.Context, key store.Key) (store.Record, error) {
	if err := s.unreachable(); err != nil {
		return store.Record{}, err
	}
	return s.memStore.Get(ctx, key)
}

func (s *downStore) List(ctx context.Context, req store.ListRequest) (store.ListResponse, error) {
	if err := s.unreachable(); err != nil {
		return store.ListResponse{}, err
	}
	return s.memStore.List(ctx, req)
}

func (s *downStore) All(ctx context.Context) (store.Snapshot, error) {
	if err := s.unreachable(); err != nil {
		return store.Snapshot{}, err
	}
	return s.memStore.All(ctx)
}

func (s *downStore) Apply(ctx context.Context, req store.ApplyRequest) (store.ApplyResult, error) {
	if err := s.unreachable(); err != nil {
		return store.ApplyResult{}, err
	}
	return s.memStore.Apply(ctx, req)
}

// While the store is unreachable, reads and writes answer 503 with a message that says so and
// a Retry-After, not a 500; once it is back, the same write succeeds.
func TestStoreUnreachableIs503(t *testing.T) {
	st := &downStore{memStore: newMemStore()}
	a := newAPI(t, func(o *Options) { o.Store = st })
	st.down.Store(true)

	for _, r := range []response{
		a.do(http.MethodPut, "/meshes/m1", "type: Mesh\nname: m1\n"),
		a.do(http.MethodGet, "/meshes/m1", ""),
		a.do(http.MethodGet, "/meshes", ""),
		a.do(http.MethodPost, "/apply", "type: Mesh\nname: m2\n", "Content-Type", "application/yaml"),
		a.do(http.MethodDelete, "/meshes/m1", ""),
	} {
		require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
		e := r.apiError(t)
		assert.Equal(t, "Store unavailable", e.Title)
		assert.Contains(t, e.Details, "the store is unreachable: ")
		assert.Contains(t, e.Details, "connection refused")
		assert.Contains(t, e.Details, "; retry")
		assert.Equal(t, "2", r.header.Get("Retry-After"))
	}

	st.down.Store(false)
	a.do(http.MethodPut, "/meshes/m1", "type: Mesh\nname: m1\n").mustStatus(t, http.StatusCreated)
	a.do(http.MethodGet, "/meshes/m1", "").mustStatus(t, http.StatusOK)
}
