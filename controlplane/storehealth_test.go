package controlplane

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// pingStore is a store whose Ping fails while down is set.
type pingStore struct {
	store.Store
	down  atomic.Bool
	pings atomic.Int64
}

func (s *pingStore) Ping(context.Context) error {
	s.pings.Add(1)
	if s.down.Load() {
		return fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable)
	}
	return nil
}

// The health check turns not-ready (naming the store and the error) and the gauge 0 while the
// store does not answer, and back by itself when it does.
func TestStoreHealthFollowsTheStore(t *testing.T) {
	ps := &pingStore{}
	reg := prometheus.NewRegistry()
	h, err := newStoreHealth(ps, "postgres://meshgate:s3cret@db.example:5432/meshgate?sslmode=require", "", reg,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	h.every = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("the health check did not stop with its context")
		}
	})

	require.NoError(t, h.status())
	assert.Equal(t, 1.0, testutil.ToFloat64(h.gauge))
	ps.down.Store(true)
	require.Eventually(t, func() bool { return h.status() != nil }, 5*time.Second, 5*time.Millisecond, "never noticed the store down")
	msg := h.status().Error()
	assert.Contains(t, msg, "the store postgres://meshgate@db.example:5432/meshgate is unreachable")
	assert.Contains(t, msg, "connection refused")
	assert.NotContains(t, msg, "s3cret")
	assert.Equal(t, 0.0, testutil.ToFloat64(h.gauge))

	ps.down.Store(false)
	require.Eventually(t, func() bool { return h.status() == nil }, 5*time.Second, 5*time.Millisecond, "never noticed the store back")
	assert.Equal(t, 1.0, testutil.ToFloat64(h.gauge))
}

// A store without Ping is probed with a read of a key nobody writes: not found is healthy.
func TestStoreHealthWithoutPing(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	probe := probeOf(st)
	require.NoError(t, probe(context.Background()))
	require.NoError(t, st.Close())
	require.Error(t, probe(context.Background()), "a closed store must not look healthy")
	assert.Equal(t, "sqlite:"+filepath.Join(dir, "meshgate.db"), storeName("", dir))
}
