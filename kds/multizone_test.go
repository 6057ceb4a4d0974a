package kds

import (
	"context"
	"fmt"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/ca/zonetokens"
	"github.com/meshgate/meshgate/store"
)

func zoneIngressJSON(name, zone string) []byte {
	return fmt.Appendf(nil, `{"type":"ZoneIngress","name":%q,"labels":{"kuma.io/zone":%q,"kuma.io/origin":"zone"},"networking":{"address":"10.0.0.9","port":10001,"advertisedAddress":"192.0.2.9","advertisedPort":10001},"availableServices":[{"mesh":"default","tags":{"kuma.io/service":"api"},"instances":1}]}`, name, zone)
}

// Every zone learns the other zones' ingresses (not its own back), and does not send them up.
func TestOtherZonesIngressesReachZone(t *testing.T) {
	ca := newTestCA(t)
	gst, zst := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	put(t, gst, "", "type: Mesh\nname: default\n")
	own := store.Key{Kind: kindZoneIngress, Name: "zone-1.ingress"}
	other := store.Key{Kind: kindZoneIngress, Name: "zone-2.ingress"}
	_, err := gst.Apply(t.Context(), store.ApplyRequest{Puts: []store.Put{
		{Key: own, Spec: zoneIngressJSON(own.Name, "zone-1"), Origin: "zone:zone-1"},
		{Key: other, Spec: zoneIngressJSON(other.Name, "zone-2"), Origin: "zone:zone-2"},
	}})
	require.NoError(t, err)
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	c := startZone(t, ca, g, "zone-1", g.token(t, "zone-1"), zst, nil)
	waitSynced(t, c)

	r, err := get(zst, other)
	require.NoError(t, err, "zone-2's ingress on zone-1")
	require.Equal(t, OriginGlobal, r.Origin)
	require.NoError(t, absent(zst, own), "zone-1's own ingress does not come back from global")
	// Had zone-1 sent zone-2's ingress up, global would hold zone-1.zone-2.ingress.
	require.NoError(t, absent(gst, store.Key{Kind: kindZoneIngress, Name: "zone-1.zone-2.ingress"}))
	// zone-1 holds no ingress of its own, so its full set removes global's stale copy, and
	// only that one.
	eventually(t, "zone-1's stale ingress gone from global", func() error { return absent(gst, own) })
	_, err = get(gst, other)
	require.NoError(t, err, "zone-2's ingress stays on global")
}

// A second stream of the same method from a zone replaces the first.
func TestSecondStreamReplacesFirst(t *testing.T) {
	ca := newTestCA(t)
	gst := openStore(t, t.TempDir())
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	tok := g.token(t, "zone-1")
	first := rawZoneToGlobal(t, ca, g, tok)
	ack := exchange(t, first, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "1", SystemVersionInfo: fullPrefix + "1"})
	require.Nil(t, ack.GetErrorDetail())

	second := rawZoneToGlobal(t, ca, g, tok)
	ack = exchange(t, second, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "2", SystemVersionInfo: fullPrefix + "2"})
	require.Nil(t, ack.GetErrorDetail())

	var err error
	for range 10 {
		if err = first.RecvMsg(new(discovery.DeltaDiscoveryRequest)); err != nil {
			break
		}
	}
	require.Equal(t, codes.Aborted, status.Code(err), "the first stream ends: %v", err)
	zs := g.srv.Zones()
	require.Len(t, zs, 1)
	require.True(t, zs[0].Connected, "the second stream keeps the zone connected")
}

// TestRevokedZoneIsCutOff: revoking a zone ends its open stream with PermissionDenied, and its
// token no longer opens one.
func TestRevokedZoneIsCutOff(t *testing.T) {
	ca := newTestCA(t)
	gst := openStore(t, t.TempDir())
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	tok := g.token(t, "zone-1")
	stream := rawZoneToGlobal(t, ca, g, tok)
	ack := exchange(t, stream, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "1", SystemVersionInfo: fullPrefix + "1"})
	require.Nil(t, ack.GetErrorDetail())

	require.NoError(t, g.tokens.RevokeSubject(context.Background(), "zone-1"))
	require.Equal(t, 1, g.srv.Disconnect("zone-1"))
	var err error
	for range 10 {
		if err = stream.RecvMsg(new(discovery.DeltaDiscoveryRequest)); err != nil {
			break
		}
	}
	require.Equal(t, codes.PermissionDenied, status.Code(err), "the open stream ends: %v", err)
	require.Contains(t, status.Convert(err).Message(), "revoked")

	again := rawZoneToGlobal(t, ca, g, tok)
	err = again.RecvMsg(new(discovery.DeltaDiscoveryRequest))
	require.Equal(t, codes.Unauthenticated, status.Code(err), "a revoked zone's token opens nothing: %v", err)
	require.Zero(t, g.srv.Disconnect("zone-2"), "an unknown zone has nothing to end")
}

// TestExpiredZoneTokenEndsStream: a stream lives no longer than the zone token that opened it.
func TestExpiredZoneTokenEndsStream(t *testing.T) {
	ca := newTestCA(t)
	g := startGlobal(t, ca, openStore(t, t.TempDir()), "127.0.0.1:0", ServerOptions{})
	tok, err := g.tokens.Issue(context.Background(), zonetokens.IssueRequest{Zone: "zone-1", ValidFor: 2 * time.Second})
	require.NoError(t, err)
	start := time.Now()
	stream := rawZoneToGlobal(t, ca, g, tok)
	ack := exchange(t, stream, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "1", SystemVersionInfo: fullPrefix + "1"})
	require.Nil(t, ack.GetErrorDetail())
	err = stream.RecvMsg(new(discovery.DeltaDiscoveryRequest))
	require.Equal(t, codes.Unauthenticated, status.Code(err), "the stream ends with its token: %v", err)
	require.Contains(t, status.Convert(err).Message(), "zone token expired")
	require.GreaterOrEqual(t, time.Since(start), time.Second, "not before the token expired")
}
