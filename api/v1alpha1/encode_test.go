package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Encoding then decoding must give the same objects, for every seed example and testdata file
// that loads, so the store and the API never change a resource on the way through.
func TestEncodeRoundTrip(t *testing.T) {
	objs, errs := LoadFiles([]string{"testdata"})
	require.NotEmpty(t, objs)
	_ = errs // testdata also holds deliberately invalid files
	for _, o := range objs {
		if info, _ := LookupKind(o.GetMeta().Kind); info.KubernetesOnly {
			continue // no universal form to round-trip through
		}
		raw, err := Encode(o)
		require.NoError(t, err, o.GetMeta().DisplayName())
		back, derrs := Decode("roundtrip.json", raw)
		require.Empty(t, derrs, "%s: %s", o.GetMeta().DisplayName(), raw)
		require.Len(t, back, 1)
		got, want := back[0], o
		assert.Equal(t, want.GetMeta().Key(), got.GetMeta().Key())
		ws, _ := specOf(want)
		gs, _ := specOf(got)
		assert.Equal(t, ws.Interface(), gs.Interface(), "%s", raw)
	}
}
