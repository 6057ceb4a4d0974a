package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func keysOf(recs []store.Record) []store.Key {
	var keys []store.Key
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	return keys
}

// seedList writes names whose byte order differs from a locale-aware collation (upper case,
// punctuation), so a backend that sorts by locale fails.
func seedList(t *testing.T, s store.Store) {
	for _, k := range []store.Key{
		key("MeshGateway", "b", "z"),
		key("MeshGateway", "a", "b-2"),
		key("MeshGateway", "a", "B"),
		key("MeshGateway", "a", "b.1"),
		key("MeshGateway", "a", "_x"),
		key("MeshGateway", "a", "a"),
		key("MeshGateway", "ab", "a"),
		key("MeshGatewayRoute", "a", "a"),
		key("Mesh", "", "a"),
		key("Mesh", "", "B"),
	} {
		mustPut(t, s, k)
	}
}

func testList(t *testing.T, open Opener) {
	s := open(t)
	seedList(t, s)
	tests := []struct {
		name string
		req  store.ListRequest
		want []store.Key
	}{
		{"kind across meshes in mesh, name byte order", store.ListRequest{Kind: "MeshGateway"}, []store.Key{
			key("MeshGateway", "a", "B"), key("MeshGateway", "a", "_x"), key("MeshGateway", "a", "a"),
			key("MeshGateway", "a", "b-2"), key("MeshGateway", "a", "b.1"),
			key("MeshGateway", "ab", "a"), key("MeshGateway", "b", "z"),
		}},
		{"one mesh", store.ListRequest{Kind: "MeshGateway", Mesh: "b"}, []store.Key{key("MeshGateway", "b", "z")}},
		{"mesh filter is exact, not a prefix", store.ListRequest{Kind: "MeshGateway", Mesh: "a"}, []store.Key{
			key("MeshGateway", "a", "B"), key("MeshGateway", "a", "_x"), key("MeshGateway", "a", "a"),
			key("MeshGateway", "a", "b-2"), key("MeshGateway", "a", "b.1"),
		}},
		{"other kind", store.ListRequest{Kind: "MeshGatewayRoute"}, []store.Key{key("MeshGatewayRoute", "a", "a")}},
		{"mesh-less kind", store.ListRequest{Kind: "Mesh"}, []store.Key{key("Mesh", "", "B"), key("Mesh", "", "a")}},
		{"unknown kind", store.ListRequest{Kind: "Nope"}, nil},
		{"unknown mesh", store.ListRequest{Kind: "MeshGateway", Mesh: "nope"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.List(ctxFor(t), tc.req)
			require.NoError(t, err)
			assert.Equal(t, tc.want, keysOf(resp.Records))
			assert.Empty(t, resp.NextPageToken)
		})
	}
}

func testListPaging(t *testing.T, open Opener) {
	s := open(t)
	seedList(t, s)
	ctx := ctxFor(t)
	for _, base := range []store.ListRequest{{Kind: "MeshGateway"}, {Kind: "MeshGateway", Mesh: "a"}} {
		full, err := s.List(ctx, base)
		require.NoError(t, err)
		for _, size := range []int{1, 2, 3, len(full.Records) - 1, len(full.Records), len(full.Records) + 1} {
			t.Run(fmt.Sprintf("mesh=%q/size=%d", base.Mesh, size), func(t *testing.T) {
				req := base
				req.PageSize = size
				var got []store.Record
				for pages := 0; ; pages++ {
					require.Less(t, pages, 100, "paging does not terminate")
					resp, err := s.List(ctx, req)
					require.NoError(t, err)
					require.LessOrEqual(t, len(resp.Records), size)
					got = append(got, resp.Records...)
					if resp.NextPageToken == "" {
						break
					}
					require.Len(t, resp.Records, size, "only the last page may be short")
					req.PageToken = resp.NextPageToken
				}
				assert.Equal(t, full.Records, got)
			})
		}
	}

	t.Run("continues after the last record was deleted", func(t *testing.T) {
		resp, err := s.List(ctx, store.ListRequest{Kind: "MeshGateway", PageSize: 2})
		require.NoError(t, err)
		require.NotEmpty(t, resp.NextPageToken)
		last := resp.Records[len(resp.Records)-1].Key
		_, err = s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: last}}})
		require.NoError(t, err)
		next, err := s.List(ctx, store.ListRequest{Kind: "MeshGateway", PageSize: 2, PageToken: resp.NextPageToken})
		require.NoError(t, err)
		require.NotEmpty(t, next.Records)
		assert.Equal(t, key("MeshGateway", "a", "a"), next.Records[0].Key)
	})
}

func testListInvalid(t *testing.T, open Opener) {
	s := open(t)
	tests := []struct {
		name string
		req  store.ListRequest
	}{
		{"no kind", store.ListRequest{}},
		{"negative page size", store.ListRequest{Kind: "Mesh", PageSize: -1}},
		{"garbage token", store.ListRequest{Kind: "Mesh", PageToken: "!!not a token!!"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.List(ctxFor(t), tc.req)
			require.Error(t, err)
			assert.NotErrorIs(t, err, store.ErrNotFound)
			assert.NotErrorIs(t, err, store.ErrConflict)
		})
	}
}
