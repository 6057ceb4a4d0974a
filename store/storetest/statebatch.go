package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// stateIs checks one state entry: its value and version, or absent when value is nil.
func stateIs(t *testing.T, s store.Store, k string, value []byte, version int64) {
	t.Helper()
	got, gotV, err := s.GetState(ctxFor(t), k)
	if value == nil {
		require.ErrorIs(t, err, store.ErrNotFound, "%s absent", k)
		return
	}
	require.NoError(t, err, k)
	assert.Equal(t, value, got, k)
	assert.Equal(t, version, gotV, k)
}

func mustPutState(t *testing.T, s store.Store, k, value string) int64 {
	t.Helper()
	v, err := s.PutState(ctxFor(t), k, []byte(value), 0)
	require.NoError(t, err)
	return v
}

// testStateDelete: DeleteState with versions; a deleted entry is absent and can be created
// again.
func testStateDelete(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)

	t.Run("exact version", func(t *testing.T) {
		v := mustPutState(t, s, "a", "x")
		require.NoError(t, s.DeleteState(ctx, "a", v))
		stateIs(t, s, "a", nil, 0)
		_, err := s.PutState(ctx, "a", []byte("again"), -1)
		require.NoError(t, err, "a deleted entry can be created with -1")
	})
	t.Run("stale version conflicts and keeps the entry", func(t *testing.T) {
		v1 := mustPutState(t, s, "b", "1")
		v2 := mustPutState(t, s, "b", "2")
		err := s.DeleteState(ctx, "b", v1)
		require.ErrorIs(t, err, store.ErrConflict)
		assert.Contains(t, err.Error(), `"b"`)
		stateIs(t, s, "b", []byte("2"), v2)
		err = s.DeleteState(ctx, "b", v2+1000)
		require.ErrorIs(t, err, store.ErrConflict)
		stateIs(t, s, "b", []byte("2"), v2)
	})
	t.Run("unconditional", func(t *testing.T) {
		mustPutState(t, s, "c", "x")
		require.NoError(t, s.DeleteState(ctx, "c", 0))
		stateIs(t, s, "c", nil, 0)
		require.NoError(t, s.DeleteState(ctx, "c", 0), "unconditional delete of a missing entry is a no-op")
	})
	t.Run("version of a missing entry is not found", func(t *testing.T) {
		err := s.DeleteState(ctx, "never", 3)
		require.ErrorIs(t, err, store.ErrNotFound)
		assert.NotErrorIs(t, err, store.ErrConflict)
	})
	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			key     string
			version int64
		}{{"", 0}, {"d", -1}, {"d", -2}} {
			err := s.DeleteState(ctx, tc.key, tc.version)
			require.Error(t, err, "%q %d", tc.key, tc.version)
			assert.NotErrorIs(t, err, store.ErrConflict)
			assert.NotErrorIs(t, err, store.ErrNotFound)
		}
	})
	t.Run("blank value is not deleted", func(t *testing.T) {
		v := mustPutState(t, s, "e", "")
		stateIs(t, s, "e", []byte{}, v)
	})
	t.Run("state is not a resource", func(t *testing.T) {
		rev := revision(t, s)
		v := mustPutState(t, s, "f", "x")
		require.NoError(t, s.DeleteState(ctx, "f", v))
		assert.Equal(t, rev, revision(t, s), "state deletes do not change the revision")
	})
}

// testPutStates: batches of puts and deletes commit all or nothing.
func testPutStates(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)

	t.Run("empty", func(t *testing.T) {
		vs, err := s.PutStates(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, vs)
	})
	t.Run("create update delete", func(t *testing.T) {
		vs, err := s.PutStates(ctx, []store.StateWrite{
			{Key: "k/2", Value: []byte("two"), ExpectedVersion: -1},
			{Key: "k/1", Value: []byte("one"), ExpectedVersion: -1},
			{Key: "k/3", Value: []byte("three"), ExpectedVersion: 0},
		})
		require.NoError(t, err)
		require.Len(t, vs, 3)
		stateIs(t, s, "k/2", []byte("two"), vs[0])
		stateIs(t, s, "k/1", []byte("one"), vs[1])
		stateIs(t, s, "k/3", []byte("three"), vs[2])

		next, err := s.PutStates(ctx, []store.StateWrite{
			{Key: "k/1", Value: []byte("one'"), ExpectedVersion: vs[1]},
			{Key: "k/2", ExpectedVersion: vs[0], Delete: true},
			{Key: "k/3", ExpectedVersion: 0, Delete: true},
			{Key: "k/4", Value: []byte("four"), ExpectedVersion: 0},
			{Key: "k/5", ExpectedVersion: 0, Delete: true},
		})
		require.NoError(t, err)
		require.Len(t, next, 5)
		assert.Greater(t, next[0], vs[1])
		assert.Equal(t, int64(0), next[1], "a delete has no version")
		stateIs(t, s, "k/1", []byte("one'"), next[0])
		stateIs(t, s, "k/2", nil, 0)
		stateIs(t, s, "k/3", nil, 0)
		stateIs(t, s, "k/4", []byte("four"), next[3])
		stateIs(t, s, "k/5", nil, 0)
	})

	// A failing check in a batch writes nothing, wherever it is in the batch.
	atomic := []struct {
		name string
		bad  store.StateWrite
		want error
	}{
		{"stale put", store.StateWrite{Key: "t/b", Value: []byte("no"), ExpectedVersion: 1}, store.ErrConflict},
		{"create existing", store.StateWrite{Key: "t/b", Value: []byte("no"), ExpectedVersion: -1}, store.ErrConflict},
		{"put at version of missing", store.StateWrite{Key: "t/missing", Value: []byte("no"), ExpectedVersion: 5}, store.ErrConflict},
		{"stale delete", store.StateWrite{Key: "t/b", ExpectedVersion: 1, Delete: true}, store.ErrConflict},
		{"delete at version of missing", store.StateWrite{Key: "t/missing", ExpectedVersion: 5, Delete: true}, store.ErrNotFound},
	}
	for _, tc := range atomic {
		for _, pos := range []string{"first", "middle", "last"} {
			t.Run(tc.name+" "+pos, func(t *testing.T) {
				va := mustPutState(t, s, "t/a", "a")
				mustPutState(t, s, "t/b", "b")
				vb := mustPutState(t, s, "t/b", "b") // version 1 is stale now
				vc := mustPutState(t, s, "t/c", "c")
				require.NoError(t, s.DeleteState(ctx, "t/d", 0))
				rev := revision(t, s)
				good := []store.StateWrite{
					{Key: "t/a", Value: []byte("a'"), ExpectedVersion: va},
					{Key: "t/c", ExpectedVersion: vc, Delete: true},
					{Key: "t/d", Value: []byte("d"), ExpectedVersion: -1},
				}
				var batch []store.StateWrite
				switch pos {
				case "first":
					batch = append([]store.StateWrite{tc.bad}, good...)
				case "middle":
					batch = append(append(append([]store.StateWrite{}, good[:1]...), tc.bad), good[1:]...)
				default:
					batch = append(append([]store.StateWrite{}, good...), tc.bad)
				}
				_, err := s.PutStates(ctx, batch)
				require.ErrorIs(t, err, tc.want)
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", tc.bad.Key), "the error names the key")
				stateIs(t, s, "t/a", []byte("a"), va)
				stateIs(t, s, "t/b", []byte("b"), vb)
				stateIs(t, s, "t/c", []byte("c"), vc)
				stateIs(t, s, "t/d", nil, 0)
				stateIs(t, s, "t/missing", nil, 0)
				assert.Equal(t, rev, revision(t, s))
			})
		}
	}
	t.Run("invalid", func(t *testing.T) {
		v := mustPutState(t, s, "i/a", "a")
		for name, batch := range map[string][]store.StateWrite{
			"empty key":        {{Key: "i/a", Value: []byte("b"), ExpectedVersion: v}, {Key: "", Value: []byte("x")}},
			"duplicate key":    {{Key: "i/a", Value: []byte("b"), ExpectedVersion: v}, {Key: "i/a", Delete: true}},
			"delete with -1":   {{Key: "i/a", Value: []byte("b"), ExpectedVersion: v}, {Key: "i/b", ExpectedVersion: -1, Delete: true}},
			"version below -1": {{Key: "i/a", Value: []byte("b"), ExpectedVersion: v}, {Key: "i/b", ExpectedVersion: -2}},
		} {
			_, err := s.PutStates(ctx, batch)
			require.Error(t, err, name)
			assert.NotErrorIs(t, err, store.ErrConflict, name)
			assert.NotErrorIs(t, err, store.ErrNotFound, name)
			stateIs(t, s, "i/a", []byte("a"), v)
		}
	})
	t.Run("large", func(t *testing.T) {
		const n = 2500 // more than one PostgreSQL pipeline
		batch := make([]store.StateWrite, n)
		for i := range batch {
			batch[i] = store.StateWrite{Key: fmt.Sprintf("l/%05d", i), Value: fmt.Appendf(nil, "%d", i), ExpectedVersion: -1}
		}
		vs, err := s.PutStates(ctx, batch)
		require.NoError(t, err)
		for i := range batch {
			batch[i].ExpectedVersion = vs[i]
			batch[i].Delete = i%2 == 0
		}
		// The last one conflicts: nothing of the 2,500 changes.
		batch[n-1].ExpectedVersion++
		_, err = s.PutStates(ctx, batch)
		require.ErrorIs(t, err, store.ErrConflict)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", batch[n-1].Key))
		for _, i := range []int{0, 1, 1000, 1001, n - 2} {
			stateIs(t, s, batch[i].Key, fmt.Appendf(nil, "%d", i), vs[i])
		}
		batch[n-1].ExpectedVersion--
		_, err = s.PutStates(ctx, batch)
		require.NoError(t, err)
		for _, i := range []int{0, 1000, n - 2} {
			stateIs(t, s, batch[i].Key, nil, 0)
		}
		for _, i := range []int{1001, n - 1} {
			got, v, err := s.GetState(ctx, batch[i].Key)
			require.NoError(t, err)
			assert.Equal(t, fmt.Appendf(nil, "%d", i), got)
			assert.Greater(t, v, vs[i])
		}
	})
	t.Run("not a resource", func(t *testing.T) {
		snap, err := s.All(ctx)
		require.NoError(t, err)
		assert.Empty(t, snap.Records)
	})
}

// testConcurrentPutStates: batches over the same keys, in opposite orders, serialise: each
// commits whole or conflicts whole, with no other error (no deadlock), and no update is lost.
func testConcurrentPutStates(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	keys := []string{"c/a", "c/b", "c/c", "c/d"}
	const workers, rounds = 4, 15
	batchOf := func(w int, value func(i int, k string) (store.StateWrite, error)) ([]store.StateWrite, error) {
		batch := make([]store.StateWrite, len(keys))
		for j := range keys {
			i := j
			if w%2 == 1 {
				i = len(keys) - 1 - j
			}
			sw, err := value(i, keys[i])
			if err != nil {
				return nil, err
			}
			batch[j] = sw
		}
		return batch, nil
	}

	// Unconditional batches: afterwards every key holds the value of one and the same batch.
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				batch, _ := batchOf(w, func(_ int, k string) (store.StateWrite, error) {
					return store.StateWrite{Key: k, Value: fmt.Appendf(nil, "%d/%d", w, r)}, nil
				})
				if _, err := s.PutStates(ctx, batch); err != nil {
					t.Errorf("unconditional batch: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var first []byte
	for _, k := range keys {
		v, _, err := s.GetState(ctx, k)
		require.NoError(t, err)
		if first == nil {
			first = v
		}
		assert.Equal(t, first, v, "%s: values of one batch", k)
	}
	for _, k := range keys {
		require.NoError(t, s.DeleteState(ctx, k, 0))
	}

	// Optimistic counters: read every key, then write each +1 at the version read. Every key
	// ends at the number of committed batches.
	var (
		mu        sync.Mutex
		committed int
	)
	for w := range workers {
		wg.Go(func() {
			for range rounds {
				for {
					batch, err := batchOf(w, func(_ int, k string) (store.StateWrite, error) {
						raw, v, err := s.GetState(ctx, k)
						if errors.Is(err, store.ErrNotFound) {
							return store.StateWrite{Key: k, Value: []byte("1"), ExpectedVersion: -1}, nil
						}
						if err != nil {
							return store.StateWrite{}, err
						}
						n, err := strconv.Atoi(string(raw))
						return store.StateWrite{Key: k, Value: strconv.AppendInt(nil, int64(n+1), 10), ExpectedVersion: v}, err
					})
					if err != nil {
						t.Error(err)
						return
					}
					_, err = s.PutStates(ctx, batch)
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					if err != nil {
						t.Errorf("optimistic batch: %v", err)
						return
					}
					mu.Lock()
					committed++
					mu.Unlock()
					break
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, workers*rounds, committed)
	for _, k := range keys {
		raw, _, err := s.GetState(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(committed), string(raw), "%s: no lost update", k)
	}
}
