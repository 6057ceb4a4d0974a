package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func testVersionsIncrease(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	k := key("MeshGateway", "default", "edge")
	var last int64
	for i := range 5 {
		res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(k, "v", 0)}})
		require.NoError(t, err)
		v := res.Records[0].Version
		assert.Greater(t, v, last, "write %d", i)
		last = v
		got, err := s.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, v, got.Version)
	}

	t.Run("re-created record does not reuse an old version", func(t *testing.T) {
		_, err := s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: k}}})
		require.NoError(t, err)
		res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(k, "new", -1)}})
		require.NoError(t, err)
		assert.Greater(t, res.Records[0].Version, last)
	})
}

// testExpectedVersion runs each case on a fresh key that either exists at a known version or
// does not exist.
func testExpectedVersion(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	// relative derives ExpectedVersion from the record as stored before the case runs.
	const (
		literal = iota // use expected as given
		current        // the stored version
		stale          // a version the record really had, before the current one
		other          // a version the record never had
	)
	tests := []struct {
		name     string
		exists   bool
		delete   bool
		expected int64
		relative int
		wantErr  error
	}{
		{name: "put 0 on missing creates", expected: 0},
		{name: "put 0 on existing overwrites", exists: true, expected: 0},
		{name: "put -1 on missing creates", expected: -1},
		{name: "put -1 on existing conflicts", exists: true, expected: -1, wantErr: store.ErrConflict},
		{name: "put exact matches", exists: true, relative: current},
		{name: "put stale conflicts", exists: true, relative: stale, wantErr: store.ErrConflict},
		{name: "put unknown version conflicts", exists: true, relative: other, wantErr: store.ErrConflict},
		{name: "put exact on missing conflicts", expected: 1, wantErr: store.ErrConflict},
		{name: "delete 0 on existing deletes", exists: true, delete: true, expected: 0},
		{name: "delete exact matches", exists: true, delete: true, relative: current},
		{name: "delete stale conflicts", exists: true, delete: true, relative: stale, wantErr: store.ErrConflict},
		{name: "delete on missing is not found", delete: true, expected: 0, wantErr: store.ErrNotFound},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := key("MeshGateway", "default", string(rune('a'+i)))
			var first, before store.Record
			if tc.exists {
				first = mustPut(t, s, k)[0]
				before = mustPut(t, s, k)[0]
			}
			expected := tc.expected
			switch tc.relative {
			case current:
				expected = before.Version
			case stale:
				expected = first.Version
			case other:
				expected = before.Version + 1000
			}
			rev := revision(t, s)
			req := store.ApplyRequest{Puts: []store.Put{put(k, "new", expected)}}
			if tc.delete {
				req = store.ApplyRequest{Deletes: []store.Delete{{Key: k, ExpectedVersion: expected}}}
			}
			res, err := s.Apply(ctx, req)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, rev, revision(t, s), "a failed apply leaves the revision alone")
				got, getErr := s.Get(ctx, k)
				if tc.exists {
					require.NoError(t, getErr)
					assert.Equal(t, before, got, "a failed apply leaves the record alone")
				} else {
					require.ErrorIs(t, getErr, store.ErrNotFound)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, rev+1, res.Revision)
			got, getErr := s.Get(ctx, k)
			if tc.delete {
				require.ErrorIs(t, getErr, store.ErrNotFound)
				return
			}
			require.NoError(t, getErr)
			assert.Equal(t, spec(k, "new"), got.Spec)
			assert.Greater(t, got.Version, before.Version)
		})
	}
}

func testDeleteMissing(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	for _, expected := range []int64{0, 7} {
		_, err := s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: key("Mesh", "", "ghost"), ExpectedVersion: expected}}})
		require.ErrorIs(t, err, store.ErrNotFound)
	}
}

// testInvalidRequests: caller bugs are errors, but never ErrConflict or ErrNotFound, which an
// API would turn into 409/404 and a retry loop would retry forever.
func testInvalidRequests(t *testing.T, open Opener) {
	s := open(t)
	k := key("Mesh", "", "default")
	mustPut(t, s, k)
	tests := []struct {
		name string
		req  store.ApplyRequest
	}{
		{"empty kind", store.ApplyRequest{Puts: []store.Put{{Key: key("", "", "x")}}}},
		{"empty name", store.ApplyRequest{Puts: []store.Put{{Key: key("Mesh", "", "")}}}},
		{"delete with -1", store.ApplyRequest{Deletes: []store.Delete{{Key: k, ExpectedVersion: -1}}}},
		{"put with -2", store.ApplyRequest{Puts: []store.Put{{Key: k, ExpectedVersion: -2}}}},
		{"same key twice", store.ApplyRequest{Puts: []store.Put{put(k, "1", 0), put(k, "2", 0)}}},
		{"put and delete of one key", store.ApplyRequest{Puts: []store.Put{put(k, "1", 0)}, Deletes: []store.Delete{{Key: k}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev := revision(t, s)
			_, err := s.Apply(ctxFor(t), tc.req)
			require.Error(t, err)
			assert.NotErrorIs(t, err, store.ErrConflict)
			assert.NotErrorIs(t, err, store.ErrNotFound)
			assert.Equal(t, rev, revision(t, s))
		})
	}
}
