package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// Increment does one optimistic read-modify-write of a counter record whose spec is a decimal
// number, retrying on ErrConflict. Backends also use it to race two Store instances.
func Increment(ctx context.Context, s store.Store, k store.Key) (store.ApplyResult, error) {
	for {
		var (
			n        int
			expected int64 = -1
		)
		rec, err := s.Get(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return store.ApplyResult{}, err
		default:
			if n, err = strconv.Atoi(string(rec.Spec)); err != nil {
				return store.ApplyResult{}, err
			}
			expected = rec.Version
		}
		res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{
			Key: k, Spec: []byte(strconv.Itoa(n + 1)), ExpectedVersion: expected,
		}}})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return res, err
	}
}

// testConcurrentApply: many goroutines increment one counter and write their own records.
// No increment may be lost, and every committed transaction gets its own revision.
func testConcurrentApply(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	counter := key("Counter", "", "c")
	const workers, perWorker = 8, 10
	start := revision(t, s)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		revs = map[int64]bool{}
		errs = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				res, err := Increment(ctx, s, counter)
				if err != nil {
					errs <- err
					return
				}
				own, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{
					put(key("Own", fmt.Sprint(w), fmt.Sprint(i)), "", -1),
				}})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, r := range []int64{res.Revision, own.Revision} {
					if revs[r] {
						errs <- fmt.Errorf("revision %d reported by two transactions", r)
					}
					revs[r] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	rec, err := s.Get(ctxFor(t), counter)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers*perWorker), string(rec.Spec), "no lost updates")
	own, err := s.List(ctxFor(t), store.ListRequest{Kind: "Own"})
	require.NoError(t, err)
	assert.Len(t, own.Records, workers*perWorker)
	assert.Equal(t, start+2*workers*perWorker, revision(t, s), "one revision per committed transaction")
}
