package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func testTransactionAtomic(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	existing := mustPut(t, s, key("Mesh", "", "default"), key("MeshGateway", "default", "gw"))
	fresh := key("MeshGateway", "default", "fresh")
	tests := []struct {
		name    string
		req     store.ApplyRequest
		wantErr error
	}{
		{"one put conflicts", store.ApplyRequest{
			Puts: []store.Put{
				put(fresh, "x", -1),
				put(existing[0].Key, "x", existing[0].Version),
				put(existing[1].Key, "x", existing[1].Version+1000),
			},
		}, store.ErrConflict},
		{"bad put comes first", store.ApplyRequest{
			Puts: []store.Put{put(existing[0].Key, "x", -1), put(fresh, "x", 0)},
		}, store.ErrConflict},
		{"one delete is missing", store.ApplyRequest{
			Puts:    []store.Put{put(fresh, "x", 0), put(existing[0].Key, "x", 0)},
			Deletes: []store.Delete{{Key: existing[1].Key}, {Key: key("Mesh", "", "ghost")}},
		}, store.ErrNotFound},
		{"one delete conflicts", store.ApplyRequest{
			Deletes: []store.Delete{{Key: existing[0].Key}, {Key: existing[1].Key, ExpectedVersion: existing[1].Version + 1000}},
		}, store.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, err := s.All(ctx)
			require.NoError(t, err)
			_, err = s.Apply(ctx, tc.req)
			require.ErrorIs(t, err, tc.wantErr)
			after, err := s.All(ctx)
			require.NoError(t, err)
			assert.Equal(t, before, after, "nothing changed, revision included")
		})
	}
}

func testRevision(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	rev := revision(t, s)

	res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{
		put(key("Mesh", "", "a"), "", 0), put(key("Mesh", "", "b"), "", 0), put(key("Mesh", "", "c"), "", 0),
	}})
	require.NoError(t, err)
	assert.Equal(t, rev+1, res.Revision, "one transaction, one revision")
	assert.Equal(t, res.Revision, revision(t, s))
	require.Len(t, res.Records, 3)
	for i, want := range []string{"a", "b", "c"} {
		assert.Equal(t, want, res.Records[i].Name, "records in the order of the puts")
	}

	res2, err := s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: key("Mesh", "", "a")}}})
	require.NoError(t, err)
	assert.Equal(t, res.Revision+1, res2.Revision, "deletes count")

	empty, err := s.Apply(ctx, store.ApplyRequest{})
	require.NoError(t, err)
	assert.Equal(t, res2.Revision, empty.Revision, "an empty transaction changes nothing")
	assert.Equal(t, res2.Revision, revision(t, s))
}

func testAll(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	empty, err := s.All(ctx)
	require.NoError(t, err)
	assert.Empty(t, empty.Records)

	mustPut(t, s, key("MeshGatewayRoute", "a", "r"), key("Mesh", "", "b"), key("MeshGateway", "b", "g"),
		key("Mesh", "", "a"), key("MeshGateway", "a", "g"))
	res, err := s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: key("Mesh", "", "b")}}})
	require.NoError(t, err)

	snap, err := s.All(ctx)
	require.NoError(t, err)
	assert.Equal(t, res.Revision, snap.Revision)
	assert.Equal(t, []store.Key{
		key("Mesh", "", "a"), key("MeshGateway", "a", "g"), key("MeshGateway", "b", "g"), key("MeshGatewayRoute", "a", "r"),
	}, keysOf(snap.Records), "every record, in (kind, mesh, name) order")
	for _, rec := range snap.Records {
		got, err := s.Get(ctx, rec.Key)
		require.NoError(t, err)
		assert.Equal(t, got, rec)
	}
}

// testAllConsistent: every transaction writes the same value into a pair of records and
// remembers its revision; a snapshot taken at any moment must show both records with the
// value of the transaction whose revision it reports.
func testAllConsistent(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	a, b := key("Pair", "m", "a"), key("Pair", "m", "b")
	const writes = 30

	var (
		mu      sync.Mutex
		byRev   = map[int64]string{}
		done    = make(chan struct{})
		writeOK = make(chan error, 1)
	)
	go func() {
		defer close(done)
		for i := range writes {
			v := fmt.Sprint(i)
			res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(a, v, 0), put(b, v, 0)}})
			if err != nil {
				writeOK <- err
				return
			}
			mu.Lock()
			byRev[res.Revision] = v
			mu.Unlock()
		}
		writeOK <- nil
	}()

	var snaps []store.Snapshot
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		snap, err := s.All(ctx)
		require.NoError(t, err)
		snaps = append(snaps, snap)
	}
	require.NoError(t, <-writeOK)

	for _, snap := range snaps {
		if len(snap.Records) == 0 {
			continue
		}
		require.Len(t, snap.Records, 2)
		want, ok := byRev[snap.Revision]
		require.True(t, ok, "snapshot revision %d was produced by no transaction", snap.Revision)
		assert.Equal(t, spec(a, want), snap.Records[0].Spec, "revision %d", snap.Revision)
		assert.Equal(t, spec(b, want), snap.Records[1].Spec, "revision %d", snap.Revision)
	}
}
