package controlplane

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// failingAll is a store whose reads of every record fail once down is set.
type failingAll struct {
	store.Store
	down  atomic.Bool
	reads atomic.Int64
}

func (s *failingAll) All(ctx context.Context) (store.Snapshot, error) {
	s.reads.Add(1)
	if s.down.Load() {
		return store.Snapshot{}, errors.New("connection refused")
	}
	return s.Store.All(ctx)
}

// A certificate falling due while the store does not answer is retried with a backoff, not in
// a loop (one that logged 40,000 failed rebuilds in a 10 s outage).
func TestRenewalRetriesBackOff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	raw, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	st := &failingAll{Store: raw}
	rec := &reconciler{store: st, sink: nullSink{}, log: quietLogger(), ids: newTestIdentities(t, raw), presence: newPresence()}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- rec.run(ctx, 10*time.Millisecond, func() { close(ready) }) }()
	<-ready
	// A served dataplane whose certificate is overdue, and a store that stopped answering.
	rec.mu.Lock()
	rec.served["default.gw"] = &servedNode{renewAt: time.Now().Add(-time.Minute)}
	rec.mu.Unlock()
	st.down.Store(true)
	before := st.reads.Load()
	rec.presence.mark("wake-the-loop") // the loop looks at the renewal time again
	time.Sleep(1500 * time.Millisecond)
	attempts := st.reads.Load() - before
	cancel()
	require.NoError(t, <-done)
	// 100, 200, 400, 800 ms: at most five attempts in 1.5 s, at least two.
	require.LessOrEqual(t, attempts, int64(6), "retries must back off")
	require.GreaterOrEqual(t, attempts, int64(2), "and still retry")
}
