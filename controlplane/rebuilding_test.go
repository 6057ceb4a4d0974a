package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store/sqlite"
)

// TestRebuildingIsSetWhileARebuildRuns: the flag the console shows is up during a rebuild
// (seen from its end hook) and down once it is over.
func TestRebuildingIsSetWhileARebuildRuns(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	var during []bool
	rec := &reconciler{store: st, sink: nullSink{}, log: quietLogger(), ids: newTestIdentities(t, st), presence: newPresence()}
	rec.onRun = func(_ time.Duration) { during = append(during, rec.rebuilding.Load()) }
	require.False(t, rec.rebuilding.Load())
	require.NoError(t, rec.rebuild(ctx))
	require.Equal(t, []bool{true}, during)
	require.False(t, rec.rebuilding.Load(), "down after the rebuild")
}
