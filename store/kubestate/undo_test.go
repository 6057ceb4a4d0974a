package kubestate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/kubestate"
	"github.com/meshgate/meshgate/test/kubetest"
)

// TestBatchUndone: a batch whose last write the API server refuses after its checks passed
// (the entry's Secret was made immutable behind meshgate's back) is undone: updated entries
// have their old values back at new versions, created ones are gone, deleted ones are back.
func TestBatchUndone(t *testing.T) {
	c := kubetest.Client(t)
	st := newStorage(t, c)
	s := openStore(t, c, st)
	ctx := testCtx(t)

	const updates, creates = 12, 5
	before := map[string]int64{}
	for i := range updates {
		k := fmt.Sprintf("u/%02d", i)
		v, err := s.PutState(ctx, k, []byte("old"), 0)
		require.NoError(t, err)
		before[k] = v
	}
	dv, err := s.PutState(ctx, "d/0", []byte("old"), 0)
	require.NoError(t, err)
	iv, err := s.PutState(ctx, "z/immutable", []byte("old"), 0)
	require.NoError(t, err)
	secrets := c.CoreV1().Secrets(st.namespace)
	sec, err := secrets.Get(ctx, kubestate.SecretName("z/immutable"), metav1.GetOptions{})
	require.NoError(t, err)
	immutable := true
	sec.Immutable = &immutable
	_, err = secrets.Update(ctx, sec, metav1.UpdateOptions{})
	require.NoError(t, err)

	// Writes are started in batch order, the refused one last: every other write is made
	// before it fails, so all of them are undone.
	var batch []store.StateWrite
	for i := range updates {
		k := fmt.Sprintf("u/%02d", i)
		batch = append(batch, store.StateWrite{Key: k, Value: []byte("new"), ExpectedVersion: before[k]})
	}
	for i := range creates {
		batch = append(batch, store.StateWrite{Key: fmt.Sprintf("n/%02d", i), Value: []byte("new"), ExpectedVersion: -1})
	}
	batch = append(batch,
		store.StateWrite{Key: "d/0", ExpectedVersion: dv, Delete: true},
		store.StateWrite{Key: "z/immutable", Value: []byte("new"), ExpectedVersion: iv})
	_, err = s.PutStates(ctx, batch)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"z/immutable"`)
	assert.NotContains(t, err.Error(), "partly written", "the undo succeeded")
	assert.NotErrorIs(t, err, store.ErrConflict)
	assert.NotErrorIs(t, err, store.ErrUnavailable)

	for k, v := range before {
		got, gotV, err := s.GetState(ctx, k)
		require.NoError(t, err, k)
		assert.Equal(t, "old", string(got), k)
		assert.Equal(t, v+2, gotV, "%s: written once, undone once: a version is not reused", k)
	}
	for i := range creates {
		_, _, err := s.GetState(ctx, fmt.Sprintf("n/%02d", i))
		require.ErrorIs(t, err, store.ErrNotFound, "created by the batch, removed by its undo")
	}
	got, gotV, err := s.GetState(ctx, "d/0")
	require.NoError(t, err, "deleted by the batch, created again by its undo")
	assert.Equal(t, "old", string(got))
	assert.Equal(t, dv+1, gotV)
	got, gotV, err = s.GetState(ctx, "z/immutable")
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
	assert.Equal(t, iv, gotV)
}

// TestTwoStoresNoLostUpdate: two Stores on one namespace (two processes, as far as the API
// server can tell) increment one entry at the versions they read; the resourceVersion
// precondition turns their races into conflicts, so no increment is lost.
func TestTwoStoresNoLostUpdate(t *testing.T) {
	c := kubetest.Client(t)
	st := newStorage(t, c)
	other := storage{dir: t.TempDir(), namespace: st.namespace}
	stores := []store.Store{openStore(t, c, st), openStore(t, c, other)}
	ctx := testCtx(t)
	const perStore, rounds, maxTries = 2, 10, 500

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		retried int
	)
	for _, s := range stores {
		for range perStore {
			wg.Go(func() {
				for range rounds {
					if err := increment(ctx, s, maxTries, func() { mu.Lock(); retried++; mu.Unlock() }); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	got, _, err := stores[1].GetState(ctx, "counter")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(len(stores)*perStore*rounds), string(got), "no lost increment")
	t.Logf("%d conflicts retried", retried)
}

func increment(ctx context.Context, s store.Store, maxTries int, onConflict func()) error {
	for range maxTries {
		raw, v, err := s.GetState(ctx, "counter")
		n := 0
		switch {
		case errors.Is(err, store.ErrNotFound):
			v = -1
		case err != nil:
			return err
		default:
			if _, err := fmt.Sscan(string(raw), &n); err != nil {
				return err
			}
		}
		_, err = s.PutState(ctx, "counter", []byte(fmt.Sprint(n+1)), v)
		if errors.Is(err, store.ErrConflict) {
			onConflict()
			continue
		}
		return err
	}
	return fmt.Errorf("no increment after %d tries", maxTries)
}
