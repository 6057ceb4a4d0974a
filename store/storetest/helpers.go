package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// waitFor bounds every wait in the suite; it is a hang detector, not a performance target.
const waitFor = 10 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func key(kind, mesh, name string) store.Key { return store.Key{Kind: kind, Mesh: mesh, Name: name} }

func spec(k store.Key, extra string) []byte {
	return fmt.Appendf(nil, `{"type":%q,"mesh":%q,"name":%q,"x":%q}`, k.Kind, k.Mesh, k.Name, extra)
}

func put(k store.Key, extra string, expected int64) store.Put {
	return store.Put{Key: k, Spec: spec(k, extra), Origin: "api", ExpectedVersion: expected}
}

// mustPut writes records unconditionally, one transaction each, and returns them as stored.
func mustPut(t *testing.T, s store.Store, keys ...store.Key) []store.Record {
	t.Helper()
	var recs []store.Record
	for _, k := range keys {
		res, err := s.Apply(ctxFor(t), store.ApplyRequest{Puts: []store.Put{put(k, "v", 0)}})
		require.NoError(t, err)
		require.Len(t, res.Records, 1)
		recs = append(recs, res.Records[0])
	}
	return recs
}

func revision(t *testing.T, s store.Store) int64 {
	t.Helper()
	snap, err := s.All(ctxFor(t))
	require.NoError(t, err)
	return snap.Revision
}

// receive waits for the next revision from ch.
func receive(t *testing.T, ch <-chan int64) int64 {
	t.Helper()
	select {
	case rev, ok := <-ch:
		require.True(t, ok, "watch channel closed unexpectedly")
		return rev
	case <-time.After(waitFor):
		require.FailNow(t, "no revision from Watch")
		return 0
	}
}

// receiveAtLeast reads until a revision >= want arrives; earlier ones may legitimately come
// first when another writer's change is announced late.
func receiveAtLeast(t *testing.T, ch <-chan int64, want int64) int64 {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case rev, ok := <-ch:
			require.True(t, ok, "watch channel closed unexpectedly")
			if rev >= want {
				return rev
			}
		case <-deadline:
			require.FailNowf(t, "no revision from Watch", "want >= %d", want)
		}
	}
}

func requireClosed(t *testing.T, ch <-chan int64) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			require.FailNow(t, "watch channel did not close")
		}
	}
}
