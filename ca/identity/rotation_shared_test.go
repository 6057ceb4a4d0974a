package identity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/model"
)

// TestSharedStoreKeepsRootOtherReplicasNeed: two replicas on one store serve different
// dataplanes of one mesh. After a switch, replica a moves all its leaves at once while b, at
// its own pace, still has leaves under the old root: a keeps the old root in its bundle until
// the last of b's old leaves expires, so its dataplanes keep accepting b's.
func TestSharedStoreKeepsRootOtherReplicasNeed(t *testing.T) {
	clk := newFakeClock()
	st := openTestStore(t, t.TempDir())
	a := newTestIdentities(t, st, noJitter(0, 1), clk)
	b := newTestIdentities(t, st, noJitter(0.0001, 1), clk)
	a.ShareStore()
	b.ShareStore()
	half := func(m *model.Mesh, second bool) *model.Mesh {
		c := *m
		n := len(m.Dataplanes) / 2
		if second {
			c.Dataplanes = m.Dataplanes[n:]
		} else {
			c.Dataplanes = m.Dataplanes[:n]
		}
		return &c
	}
	first := rotMesh(6, "ca-1", "ca-1")
	switched := rotMesh(6, "ca-2", "ca-2")
	aBefore := rebuild(t, a, half(first, false))
	clk.Advance(time.Hour) // b's leaves are younger: they expire an hour after a's
	bBefore := rebuild(t, b, half(first, true))
	old := backendRootFP(t, a, first, "ca-1")
	next := backendRootFP(t, a, switched, "ca-2")

	rebuild(t, a, half(switched, false))
	rebuild(t, b, half(switched, true))
	clk.Advance(time.Minute)
	moved := rebuild(t, a, half(switched, false))
	for name, id := range moved.ids {
		require.Equal(t, next, issuerRoot(t, id), "a did not move %s", name)
	}
	stillOld := 0
	for _, id := range rebuild(t, b, half(switched, true)).ids {
		if issuerRoot(t, id) == old {
			stillOld++
		}
	}
	require.Positive(t, stillOld, "b moved every leaf: nothing to keep the root for")

	// Past the settle time, and past the expiry of a's own old leaves, a still trusts the
	// root b's leaves chain to.
	aOldExpiry := chainOf(t, aBefore.ids["dp-0"])[0].NotAfter
	clk.Advance(aOldExpiry.Sub(clk.Now()) + 10*time.Minute)
	out := rebuild(t, a, half(switched, false))
	assert.True(t, rootsOf(t, out.ids["dp-0"])[old], "a dropped the root b's dataplanes still use")
	bExpiry := chainOf(t, bBefore.ids["dp-3"])[0].NotAfter
	clk.Advance(bExpiry.Sub(clk.Now()) + time.Second)
	out = rebuild(t, a, half(switched, false))
	assert.False(t, rootsOf(t, out.ids["dp-0"])[old], "the old root outlived every leaf under it")
}
