package names

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestRouteOriginRoundTrip(t *testing.T) {
	for _, o := range []RouteOrigin{
		{Mesh: "default", Route: "edge", Rule: 2, Match: 1},
		{Mesh: "shop", Route: "a.b/c", Rule: 0, Match: 0},
		{Route: "no-mesh", Rule: 17, Match: 300},
	} {
		got, ok := DecodeRouteOrigin(&structpb.Struct{Fields: EncodeRouteOrigin(o)})
		require.True(t, ok, "%+v", o)
		assert.Equal(t, o, got)
	}
}

// The encoding is output: Envoy's config dump shows it and explain reads dumps written by
// earlier versions, so the wire form is pinned here, not only round-tripped.
func TestRouteOriginWireForm(t *testing.T) {
	want, err := structpb.NewStruct(map[string]any{"mesh": "default", "route": "edge", "rule": 2, "match": 1})
	require.NoError(t, err)
	assert.Equal(t, want.AsMap(), (&structpb.Struct{Fields: EncodeRouteOrigin(RouteOrigin{Mesh: "default", Route: "edge", Rule: 2, Match: 1})}).AsMap())
	got, ok := DecodeRouteOrigin(want)
	require.True(t, ok)
	assert.Equal(t, RouteOrigin{Mesh: "default", Route: "edge", Rule: 2, Match: 1}, got)
}

func TestRouteOriginAbsent(t *testing.T) {
	_, ok := DecodeRouteOrigin(nil)
	assert.False(t, ok, "no metadata")
	_, ok = DecodeRouteOrigin(&structpb.Struct{Fields: map[string]*structpb.Value{PoliciesMetadataKey: structpb.NewListValue(&structpb.ListValue{})}})
	assert.False(t, ok, "policy decisions but no route")
}
