package vip

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPreviewIsOrderIndependentAndUnique(t *testing.T) {
	keys := []Key{{Mesh: "b", Name: "web.mesh"}, {Name: "api.example.com"}, {Mesh: "a", Name: "web.mesh"}}
	got := Preview(keys, netip.Prefix{})
	require.Equal(t, netip.MustParseAddr("240.0.0.1"), got[Key{Name: "api.example.com"}].V4)
	require.Equal(t, netip.MustParseAddr("240.0.0.2"), got[Key{Mesh: "a", Name: "web.mesh"}].V4)
	require.Equal(t, netip.MustParseAddr("240.0.0.3"), got[Key{Mesh: "b", Name: "web.mesh"}].V4)
	rev := Preview([]Key{keys[2], keys[1], keys[0]}, netip.Prefix{})
	require.Equal(t, got, rev)
}

func TestPreviewStopsWhenExhausted(t *testing.T) {
	got := Preview([]Key{{Name: "a"}, {Name: "b"}, {Name: "c"}}, netip.MustParsePrefix("10.0.0.0/30"))
	require.Len(t, got, 2) // .0 is the network address and .3 the broadcast
}
