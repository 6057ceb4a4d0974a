package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMirror(t *testing.T) {
	k := func(name string) Key { return Key{Kind: "Dataplane", Mesh: "default", Name: name} }
	current := []Record{
		{Key: k("same"), Spec: []byte("a"), Origin: "files", Version: 3},
		{Key: k("changed"), Spec: []byte("old"), Origin: "files", Version: 4},
		{Key: k("gone"), Spec: []byte("x"), Origin: "files", Version: 5},
		{Key: k("api-made"), Spec: []byte("y"), Origin: "", Version: 6},
		{Key: k("api-other"), Spec: []byte("z"), Origin: "", Version: 7},
	}
	want := []Put{
		{Key: k("same"), Spec: []byte("a"), Origin: "files"},
		{Key: k("changed"), Spec: []byte("new"), Origin: "files"},
		{Key: k("new"), Spec: []byte("n"), Origin: "files"},
		{Key: k("api-made"), Spec: []byte("y2"), Origin: "files"},
	}
	req, replaced := Mirror(current, want, func(r Record) bool { return r.Origin == "files" })
	require.Equal(t, []Put{
		{Key: k("api-made"), Spec: []byte("y2"), Origin: "files", ExpectedVersion: 6},
		{Key: k("changed"), Spec: []byte("new"), Origin: "files", ExpectedVersion: 4},
		{Key: k("new"), Spec: []byte("n"), Origin: "files", ExpectedVersion: -1},
	}, req.Puts, "unchanged records are not written; new ones must not exist yet; changed ones at their version")
	require.Equal(t, []Delete{{Key: k("gone"), ExpectedVersion: 5}}, req.Deletes, "only the owner's records are deleted")
	require.Equal(t, []Record{current[3]}, replaced)

	req, replaced = Mirror(current[:1], want[:1], func(r Record) bool { return r.Origin == "files" })
	require.Empty(t, req.Puts)
	require.Empty(t, req.Deletes)
	require.Empty(t, replaced)
}
