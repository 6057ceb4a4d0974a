package kds

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// The zone refuses a gateway it cannot decode, keeps what it had of that type, and takes the
// full set again once global's copy is fixed.
func TestZoneNacksUndecodableThenResyncs(t *testing.T) {
	ca := newTestCA(t)
	gst, zst := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	put(t, gst, "", "type: Mesh\nname: default\n")
	broken := store.Key{Kind: "MeshGateway", Mesh: "default", Name: "broken"}
	_, err := gst.Apply(t.Context(), store.ApplyRequest{Puts: []store.Put{{Key: broken,
		Spec: []byte(`{"type":"MeshGateway","mesh":"default","name":"broken","conf":{"listeners":"not a list"}}`)}}})
	require.NoError(t, err)
	// The zone's earlier copy of another gateway: a NACKed full set must not delete it.
	put(t, zst, OriginGlobal, `
type: MeshGateway
mesh: default
name: kept
selectors: [{match: {kuma.io/service: kept}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
`)
	keptKey := store.Key{Kind: "MeshGateway", Mesh: "default", Name: "kept"}

	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	c := startZone(t, ca, g, "zone-1", g.token(t, "zone-1"), zst, nil)
	eventually(t, "global seeing the zone's NACK", func() error {
		for _, z := range g.srv.Zones() {
			if strings.Contains(z.LastError, "NACK") && strings.Contains(z.LastError, "default/broken") {
				return nil
			}
		}
		return errors.New("no NACK naming default/broken yet")
	})
	_, err = get(zst, keptKey)
	require.NoError(t, err, "the NACKed full set deleted nothing")
	require.NoError(t, absent(zst, broken))
	_, err = get(zst, store.Key{Kind: "Mesh", Name: "default"})
	require.NoError(t, err, "other types are applied")
	select {
	case <-c.Synced():
		t.Fatal("synced with a type refused")
	default:
	}

	// Fixed on global: the type is sent in full again and reconciled.
	put(t, gst, "", `
type: MeshGateway
mesh: default
name: broken
selectors: [{match: {kuma.io/service: edge}}]
conf: {listeners: [{port: 8080, protocol: HTTP}]}
`)
	waitSynced(t, c)
	_, err = get(zst, broken)
	require.NoError(t, err)
	require.NoError(t, absent(zst, keptKey), "the full set after the fix reconciles the type")
}
