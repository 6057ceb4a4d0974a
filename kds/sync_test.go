package kds

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/ca/zonetokens"
	"github.com/meshgate/meshgate/store"
)

const globalResources = `
type: Mesh
name: default
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: edge}}]
conf:
  listeners:
  - {port: 8080, protocol: HTTP}
---
type: MeshGateway
mesh: default
name: other
selectors: [{match: {kuma.io/service: other}}]
conf:
  listeners:
  - {port: 9090, protocol: HTTP}
`

const zoneDataplane = `
type: Dataplane
mesh: default
name: edge-1
networking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}}
`

var (
	keyMesh  = store.Key{Kind: "Mesh", Name: "default"}
	keyEdge  = store.Key{Kind: "MeshGateway", Mesh: "default", Name: "edge"}
	keyOther = store.Key{Kind: "MeshGateway", Mesh: "default", Name: "other"}
)

// recorder keeps the non-full responses a zone received.
type recorder struct {
	mu     sync.Mutex
	deltas []*discovery.DeltaDiscoveryResponse
}

func (r *recorder) see(resp *discovery.DeltaDiscoveryResponse) {
	if strings.HasPrefix(resp.GetSystemVersionInfo(), fullPrefix) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deltas = append(r.deltas, resp)
}

func (r *recorder) all() []*discovery.DeltaDiscoveryResponse {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slicesClone(r.deltas)
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

func TestGlobalToZoneReconcileDeltaAndDelete(t *testing.T) {
	ca := newTestCA(t)
	gst, zst := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	put(t, gst, "", globalResources)
	// The zone holds a stale copy from an earlier sync, and a local Dataplane of its own.
	put(t, zst, OriginGlobal, `
type: MeshGateway
mesh: default
name: stale
selectors: [{match: {kuma.io/service: stale}}]
conf: {listeners: [{port: 80, protocol: HTTP}]}
`)
	put(t, zst, "", zoneDataplane)

	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	rec := &recorder{}
	c := startZone(t, ca, g, "zone-1", g.token(t, "zone-1"), zst, rec.see)
	waitSynced(t, c)

	for _, k := range []store.Key{keyMesh, keyEdge, keyOther} {
		r, err := get(zst, k)
		require.NoError(t, err, "%v on the zone", k)
		require.Equal(t, OriginGlobal, r.Origin)
	}
	require.NoError(t, absent(zst, store.Key{Kind: "MeshGateway", Mesh: "default", Name: "stale"}), "the full reconcile deletes the stale copy")
	_, err := get(zst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "edge-1"})
	require.NoError(t, err, "the zone's own Dataplane is not global's to delete")

	// A change on global arrives as a delta carrying only that resource.
	put(t, gst, "", strings.ReplaceAll(globalResources[strings.Index(globalResources, "type: MeshGateway"):strings.LastIndex(globalResources, "---")], "8080", "8081"))
	eventually(t, "the changed gateway on the zone", func() error {
		r, err := get(zst, keyEdge)
		if err != nil {
			return err
		}
		if !strings.Contains(string(r.Spec), "8081") {
			return fmt.Errorf("spec %s", r.Spec)
		}
		return nil
	})
	deltas := rec.all()
	require.Len(t, deltas, 1, "one delta response")
	require.Equal(t, typeURL("MeshGateway"), deltas[0].GetTypeUrl())
	require.Len(t, deltas[0].GetResources(), 1)
	require.Equal(t, "default/edge", deltas[0].GetResources()[0].GetName())
	require.Empty(t, deltas[0].GetRemovedResources())

	del(t, gst, keyOther)
	eventually(t, "the deleted gateway gone from the zone", func() error { return absent(zst, keyOther) })
	deltas = rec.all()
	require.Equal(t, []string{"default/other"}, deltas[len(deltas)-1].GetRemovedResources())

	zs := g.srv.Zones()
	require.Len(t, zs, 1)
	require.Equal(t, "zone-1", zs[0].Zone)
	require.True(t, zs[0].Connected)
	require.Positive(t, zs[0].ResourcesSent)
	require.False(t, c.Status().LastSync.IsZero())
}

func TestZoneDataplanesOnGlobal(t *testing.T) {
	ca := newTestCA(t)
	gst, zst := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	put(t, gst, "", "type: Mesh\nname: default\n")
	put(t, zst, "", zoneDataplane)
	reg := prometheus.NewRegistry()
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{Registerer: reg})
	c := startZone(t, ca, g, "zone-1", g.token(t, "zone-1"), zst, nil)
	waitSynced(t, c)

	onGlobal := store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-1.edge-1"}
	eventually(t, "the zone's Dataplane on global", func() error { _, err := get(gst, onGlobal); return err })
	r, err := get(gst, onGlobal)
	require.NoError(t, err)
	require.Equal(t, "zone:zone-1", r.Origin)
	var spec struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	}
	require.NoError(t, json.Unmarshal(r.Spec, &spec))
	require.Equal(t, "zone-1.edge-1", spec.Name)
	require.Equal(t, map[string]string{"kuma.io/zone": "zone-1", "kuma.io/origin": "zone"}, spec.Labels)
	require.NoError(t, checkSpec(onGlobal, r.Spec), "the relabelled spec still decodes")

	// The zone's Dataplane is not sent back down, nor is the zone's copy of the Mesh sent up.
	_, err = get(zst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-1.edge-1"})
	require.ErrorIs(t, err, store.ErrNotFound)

	del(t, zst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "edge-1"})
	eventually(t, "the deleted Dataplane gone from global", func() error { return absent(gst, onGlobal) })
	require.Positive(t, g.srv.Zones()[0].ResourcesReceived)

	require.Equal(t, 1.0, testutil.ToFloat64(g.srv.metrics.connected.WithLabelValues("zone-1")))
	require.Positive(t, testutil.ToFloat64(g.srv.metrics.received.WithLabelValues("zone-1")))
	require.Positive(t, testutil.ToFloat64(g.srv.metrics.sent.WithLabelValues("zone-1")))
	names, err := testutil.GatherAndCount(reg, "meshgate_kds_connected_zones", "meshgate_kds_resources_sent_total", "meshgate_kds_resources_received_total")
	require.NoError(t, err)
	require.Equal(t, 3, names, "the metrics are registered")
}

// rawZoneToGlobal opens a ZoneToGlobalSync stream as a zone would, without the client, to
// send what a well-behaved client never would.
func rawZoneToGlobal(t *testing.T, ca *testCA, g *global, token string) grpc.ClientStream {
	t.Helper()
	conn, err := grpc.NewClient(g.addr, grpc.WithTransportCredentials(credentials.NewTLS(ca.clientTLS())))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	s, err := conn.NewStream(ctx, &serviceDesc.Streams[1], methodZoneToGlobal)
	require.NoError(t, err)
	return s
}

// exchange sends a response and returns global's answer to it (skipping subscriptions).
func exchange(t *testing.T, s grpc.ClientStream, resp *discovery.DeltaDiscoveryResponse) *discovery.DeltaDiscoveryRequest {
	t.Helper()
	require.NoError(t, s.SendMsg(resp))
	for range 10 {
		req := new(discovery.DeltaDiscoveryRequest)
		require.NoError(t, s.RecvMsg(req))
		if req.GetResponseNonce() == resp.GetNonce() {
			return req
		}
	}
	t.Fatalf("no answer to nonce %s", resp.GetNonce())
	return nil
}

func dataplaneResource(name, spec string) *discovery.Resource {
	return &discovery.Resource{Name: "default/" + name, Version: "1",
		Resource: &anypb.Any{TypeUrl: typeURL("Dataplane"), Value: []byte(spec)}}
}

func dataplaneJSON(name string) string {
	return fmt.Sprintf(`{"type":"Dataplane","mesh":"default","name":%q,"networking":{"address":"10.0.0.2","inbound":[{"port":8080,"tags":{"kuma.io/service":"web"}}]}}`, name)
}

func TestZoneStreamTouchesOnlyItsOwnRecords(t *testing.T) {
	ca := newTestCA(t)
	gst := openStore(t, t.TempDir())
	put(t, gst, "", "type: Mesh\nname: default\n")
	// zone-2's Dataplane, and a record named like zone-1's that zone-1 does not own.
	put(t, gst, "zone:zone-2", strings.ReplaceAll(zoneDataplane, "edge-1", "zone-2.web"))
	put(t, gst, "", strings.ReplaceAll(zoneDataplane, "edge-1", "zone-1.taken"))
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	s := rawZoneToGlobal(t, ca, g, g.token(t, "zone-1"))

	// A full, empty set from zone-1 deletes nothing of zone-2's.
	ack := exchange(t, s, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "1", SystemVersionInfo: fullPrefix + "1"})
	require.Nil(t, ack.GetErrorDetail())
	_, err := get(gst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-2.web"})
	require.NoError(t, err, "zone-1's full set left zone-2's Dataplane")

	// Writing or deleting a record global holds under another origin is refused.
	nack := exchange(t, s, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "2",
		Resources: []*discovery.Resource{dataplaneResource("taken", dataplaneJSON("taken"))}})
	require.NotNil(t, nack.GetErrorDetail())
	require.Contains(t, nack.GetErrorDetail().GetMessage(), "default/taken")
	nack = exchange(t, s, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "3", RemovedResources: []string{"default/taken"}})
	require.NotNil(t, nack.GetErrorDetail())
	r, err := get(gst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-1.taken"})
	require.NoError(t, err)
	require.Empty(t, r.Origin)

	// Kinds global does not take from zones are refused.
	nack = exchange(t, s, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Mesh"), Nonce: "4"})
	require.NotNil(t, nack.GetErrorDetail())
}

func TestNackLeavesStoreUnchanged(t *testing.T) {
	ca := newTestCA(t)
	gst := openStore(t, t.TempDir())
	put(t, gst, "", "type: Mesh\nname: default\n")
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	s := rawZoneToGlobal(t, ca, g, g.token(t, "zone-1"))
	before, err := gst.All(context.Background())
	require.NoError(t, err)

	nack := exchange(t, s, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "1", SystemVersionInfo: fullPrefix + "1",
		Resources: []*discovery.Resource{
			dataplaneResource("good", dataplaneJSON("good")),
			dataplaneResource("bad", `{"type":"Dataplane","mesh":"default","name":"bad","networking":`),
		}})
	require.NotNil(t, nack.GetErrorDetail(), "a NACK")
	require.Contains(t, nack.GetErrorDetail().GetMessage(), "default/bad", "the NACK names the resource")
	after, err := gst.All(context.Background())
	require.NoError(t, err)
	require.Equal(t, before.Revision, after.Revision, "a NACKed batch changes nothing")
	require.Len(t, after.Records, len(before.Records))

	// The same batch without the bad resource is applied.
	ack := exchange(t, s, &discovery.DeltaDiscoveryResponse{TypeUrl: typeURL("Dataplane"), Nonce: "2",
		Resources: []*discovery.Resource{dataplaneResource("good", dataplaneJSON("good"))}})
	require.Nil(t, ack.GetErrorDetail())
	_, err = get(gst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-1.good"})
	require.NoError(t, err)
}

func TestBadAndRevokedZoneTokensRefused(t *testing.T) {
	ca := newTestCA(t)
	gst, zst := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})

	revoked := g.token(t, "zone-2")
	id, err := zonetokens.ID(revoked)
	require.NoError(t, err)
	require.NoError(t, g.tokens.Revoke(context.Background(), id))

	for name, tok := range map[string]string{"bad": "not-a-token", "revoked": revoked} {
		t.Run(name, func(t *testing.T) {
			c := startZone(t, ca, g, "zone-2", tok, zst, nil)
			_, err := c.SignIntermediate(context.Background(), "default", "ca-1", []byte("csr"))
			require.Equal(t, codes.Unauthenticated, status.Code(errors.Unwrap(err)), "SignIntermediate: %v", err)
			eventually(t, "the stream refused", func() error {
				if s := c.Status(); !strings.Contains(s.LastError, "Unauthenticated") {
					return fmt.Errorf("status %+v", s)
				}
				return nil
			})
			select {
			case <-c.Synced():
				t.Fatal("a refused zone synced")
			default:
			}
			require.Empty(t, g.srv.Zones())
		})
	}
}

func TestReconnectAfterGlobalRestart(t *testing.T) {
	ca := newTestCA(t)
	gdir := t.TempDir()
	gst, zst := openStore(t, gdir), openStore(t, t.TempDir())
	put(t, gst, "", globalResources)
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{})
	c := startZone(t, ca, g, "zone-1", g.token(t, "zone-1"), zst, nil)
	waitSynced(t, c)
	put(t, zst, "", zoneDataplane)
	eventually(t, "the first Dataplane on global", func() error {
		_, err := get(gst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-1.edge-1"})
		return err
	})

	g.grpc.Stop()
	eventually(t, "the zone noticing global is gone", func() error {
		if c.Status().Connected {
			return errors.New("still connected")
		}
		return nil
	})
	// The zone keeps what it has and takes a new Dataplane while global is down; global's
	// store (which persists) gets a change too.
	_, err := get(zst, keyEdge)
	require.NoError(t, err)
	put(t, zst, "", strings.ReplaceAll(zoneDataplane, "edge-1", "edge-2"))
	del(t, gst, keyOther)

	g2 := startGlobal(t, ca, gst, g.addr, ServerOptions{})
	_ = g2
	eventually(t, "the Dataplane made while global was down, on global", func() error {
		_, err := get(gst, store.Key{Kind: "Dataplane", Mesh: "default", Name: "zone-1.edge-2"})
		return err
	})
	eventually(t, "global's change made while the zone was away, on the zone", func() error { return absent(zst, keyOther) })
}

func TestSignIntermediateRoundTrip(t *testing.T) {
	ca := newTestCA(t)
	gst, zst := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	var gotZone, gotMesh, gotBackend string
	g := startGlobal(t, ca, gst, "127.0.0.1:0", ServerOptions{
		SignIntermediate: func(_ context.Context, zone, mesh, backend string, csrPEM []byte) ([]byte, error) {
			gotZone, gotMesh, gotBackend = zone, mesh, backend
			b, _ := pem.Decode(csrPEM)
			if b == nil {
				return nil, errors.New("no CSR")
			}
			csr, err := x509.ParseCertificateRequest(b.Bytes)
			if err != nil {
				return nil, err
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: csr.Subject, IsCA: true, BasicConstraintsValid: true,
				NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
			if err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
		}})
	c := startZone(t, ca, g, "zone-1", g.token(t, "zone-1"), zst, nil)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "zone-1 default"}}, key)
	require.NoError(t, err)
	chain, err := c.SignIntermediate(context.Background(), "default", "ca-1", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	require.NoError(t, err)
	require.Equal(t, []string{"zone-1", "default", "ca-1"}, []string{gotZone, gotMesh, gotBackend})
	b, _ := pem.Decode(chain)
	require.NotNil(t, b)
	cert, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: ca.pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.NoError(t, err, "the intermediate chains to global's CA")
	require.True(t, cert.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey))

	_, err = c.SignIntermediate(context.Background(), "default", "", []byte("not a CSR"))
	require.Equal(t, codes.FailedPrecondition, status.Code(errors.Unwrap(err)))
}
