package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func testPutGet(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	tests := []struct {
		name   string
		key    store.Key
		origin string
	}{
		{"mesh-less kind", key("Mesh", "", "default"), "api"},
		{"meshed kind", key("MeshGateway", "default", "edge"), "file:/etc/meshgate/gw.yaml"},
		{"same name other mesh", key("MeshGateway", "other", "edge"), "api"},
		{"same name other kind", key("MeshGatewayRoute", "default", "edge"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := store.Put{Key: tc.key, Spec: spec(tc.key, tc.name), Origin: tc.origin}
			res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{p}})
			require.NoError(t, err)
			require.Len(t, res.Records, 1)
			written := res.Records[0]
			assert.Equal(t, tc.key, written.Key)
			assert.Equal(t, p.Spec, written.Spec)
			assert.Equal(t, tc.origin, written.Origin)
			assert.Positive(t, written.Version)
			assert.False(t, written.CreationTime.IsZero())

			got, err := s.Get(ctx, tc.key)
			require.NoError(t, err)
			assert.Equal(t, written, got, "Get returns exactly what Apply reported")
		})
	}

	_, err := s.Get(ctx, key("Mesh", "", "missing"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Get(ctx, key("MeshGateway", "other-mesh", "edge"))
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testSpecBytes(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	tests := []struct {
		name string
		spec []byte
	}{
		// A JSON-normalising column type would reorder keys and drop the spacing.
		{"key order and spacing", []byte(`{"z": 1,   "a": {"y": [3, 2, 1]}, "m": "\u00e9"}`)},
		{"empty", []byte{}},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := key("Blob", "m", string(rune('a'+i)))
			_, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: k, Spec: tc.spec}}})
			require.NoError(t, err)
			got, err := s.Get(ctx, k)
			require.NoError(t, err)
			assert.Equal(t, tc.spec, got.Spec)
		})
	}
}
