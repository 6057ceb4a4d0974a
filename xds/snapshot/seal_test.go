package snapshot

import (
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// A sealed resource must go out exactly as the typed one would: same bytes through
// go-control-plane's own marshalling, same name, same version.
func TestServedSendsTheSameBytes(t *testing.T) {
	res := translated(t, proxy())
	typed, err := New(res)
	require.NoError(t, err)
	served, err := Served(res)
	require.NoError(t, err)
	for i := range typed.Resources {
		tr, sr := typed.Resources[i], served.Resources[i]
		assert.Equal(t, tr.Version, sr.Version, "type %d", i)
		require.Len(t, sr.Items, len(tr.Items), "type %d", i)
		for name, want := range tr.Items {
			got, ok := sr.Items[name]
			require.True(t, ok, name)
			assert.Equal(t, name, cache.GetResourceName(got.Resource))
			wantRaw, err := cache.MarshalResource(want.Resource)
			require.NoError(t, err)
			gotRaw, err := cache.MarshalResource(got.Resource)
			require.NoError(t, err)
			assert.Equal(t, wantRaw, gotRaw, name)
			// And it decodes back into the typed resource.
			back := want.Resource.ProtoReflect().Type().New().Interface()
			require.NoError(t, proto.Unmarshal(gotRaw, back))
			assert.True(t, proto.Equal(want.Resource, back), name)
		}
	}
	assert.Equal(t, cache.HashResource(mustMarshal(t, typed.Resources[types.Route].Items["gw:HTTPS:8443:*"].Resource)),
		cache.HashResource(mustMarshal(t, served.Resources[types.Route].Items["gw:HTTPS:8443:*"].Resource)), "delta versions agree")
}

func mustMarshal(t *testing.T, r types.Resource) []byte {
	raw, err := cache.MarshalResource(r)
	require.NoError(t, err)
	return raw
}

func TestWithoutFieldRejectsGarbage(t *testing.T) {
	_, err := withoutField([]byte{0x0a, 0x05, 'a'}, nameField)
	require.Error(t, err)
}
