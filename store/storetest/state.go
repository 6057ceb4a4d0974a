package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func testState(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	_, _, err := s.GetState(ctx, "ca/default/root")
	require.ErrorIs(t, err, store.ErrNotFound)

	// One key through a sequence of writes; each step sees the versions before it.
	const k = "ca/default/root"
	var versions []int64
	steps := []struct {
		name     string
		value    string
		expected func() int64
		wantErr  error
	}{
		{"create with -1", "v1", func() int64 { return -1 }, nil},
		{"-1 on existing conflicts", "no", func() int64 { return -1 }, store.ErrConflict},
		{"exact", "v2", func() int64 { return versions[len(versions)-1] }, nil},
		{"stale conflicts", "no", func() int64 { return versions[0] }, store.ErrConflict},
		{"never-seen conflicts", "no", func() int64 { return versions[len(versions)-1] + 1000 }, store.ErrConflict},
		{"unconditional", "v3", func() int64 { return 0 }, nil},
		{"empty value", "", func() int64 { return versions[len(versions)-1] }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			v, err := s.PutState(ctx, k, []byte(st.value), st.expected())
			_, gotV, getErr := s.GetState(ctx, k)
			require.NoError(t, getErr)
			if st.wantErr != nil {
				require.ErrorIs(t, err, st.wantErr)
				assert.Equal(t, versions[len(versions)-1], gotV, "a failed write changes nothing")
				return
			}
			require.NoError(t, err)
			if len(versions) > 0 {
				assert.Greater(t, v, versions[len(versions)-1])
			}
			versions = append(versions, v)
			got, gotV, err := s.GetState(ctx, k)
			require.NoError(t, err)
			assert.Equal(t, []byte(st.value), got)
			assert.Equal(t, v, gotV)
		})
	}

	t.Run("exact on missing conflicts", func(t *testing.T) {
		_, err := s.PutState(ctx, "missing", []byte("x"), 3)
		require.ErrorIs(t, err, store.ErrConflict)
	})
	t.Run("unconditional creates", func(t *testing.T) {
		v, err := s.PutState(ctx, "vip/allocations", []byte{0, 1, 2}, 0)
		require.NoError(t, err)
		got, gotV, err := s.GetState(ctx, "vip/allocations")
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 1, 2}, got)
		assert.Equal(t, v, gotV)
	})
	t.Run("empty key is invalid", func(t *testing.T) {
		_, err := s.PutState(ctx, "", []byte("x"), 0)
		require.Error(t, err)
		assert.NotErrorIs(t, err, store.ErrConflict)
	})
	t.Run("state is not a resource", func(t *testing.T) {
		snap, err := s.All(ctx)
		require.NoError(t, err)
		assert.Empty(t, snap.Records)
	})
}
