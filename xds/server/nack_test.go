package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
)

const rejection = "route_config route-8080: unknown cluster 'ghost'"

// rejectVersion NACKs every response of typeURL at version.
func rejectVersion(typeURL, version string) func(string, string) string {
	return func(t, v string) string {
		if t == typeURL && v == version {
			return rejection
		}
		return ""
	}
}

func TestNACKedVersionIsNotResentUntilTheSnapshotChanges(t *testing.T) {
	cases := []struct {
		name     string
		typeURL  string
		label    string
		bad, fix gen
	}{
		{"named type (routes)", resource.RouteType, "route", gen{1, 1, 1, 2}, gen{1, 1, 1, 3}},
		{"wildcard type (clusters)", resource.ClusterType, "cluster", gen{2, 1, 1, 1}, gen{3, 1, 1, 1}},
	}
	for _, p := range protocols {
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				h := newHarness(t)
				h.set(t, "default.gw", gen{1, 1, 1, 1})
				c := p.dial(t, h, "default.gw")
				c.recv().sync(t, gen{1, 1, 1, 1})
				badVersion := tc.bad.versions()[tc.typeURL]
				c.rejectWith(rejectVersion(tc.typeURL, badVersion))

				h.set(t, "default.gw", tc.bad)
				if e := c.recv().next(t); e.typeURL != tc.typeURL || e.version != badVersion || !e.nacked {
					t.Fatalf("got %v, want the NACKed %s", e, badVersion)
				}
				// Without parking the rejected version comes straight back, again and again.
				c.recv().quietFor(t, 3*quietFor)

				eventually(t, "the NACK in Nodes()", func() bool {
					ts := h.typeStatus("default.gw", tc.typeURL)
					return ts.Rejected && ts.LastNACK != nil && ts.LastNACK.Version == badVersion
				})
				ts := h.typeStatus("default.gw", tc.typeURL)
				if ts.LastNACK.Message != rejection || ts.AckedVersion != gen1Version(tc.typeURL) || ts.SentVersion != badVersion {
					t.Errorf("Nodes() type status = %+v", ts)
				}
				if got := h.metric(t, "meshgate_xds_nacks_total", "type", tc.label); got != 1 {
					t.Errorf("nacks_total{type=%q} = %v, want 1", tc.label, got)
				}
				warnings := h.logs.lines("xDS response rejected")
				if len(warnings) != 1 {
					t.Fatalf("want one rejection warning, got %q", warnings)
				}
				for _, want := range []string{"level=WARN", "node=default.gw", "type=" + tc.typeURL, "version=" + badVersion, "unknown cluster"} {
					if !strings.Contains(warnings[0], want) {
						t.Errorf("warning %q lacks %q", warnings[0], want)
					}
				}

				// An unrelated change still goes through, and the rejected type stays parked.
				other := tc.bad
				other.eds = 5
				h.set(t, "default.gw", other)
				if e := c.recv().next(t); e.typeURL != resource.EndpointType || e.version != "eds-5" {
					t.Fatalf("got %v, want the endpoint change", e)
				}
				c.recv().quiet(t)

				// A fixed snapshot is pushed at once and accepted.
				fix := tc.fix
				fix.eds = 5
				fixVersion := fix.versions()[tc.typeURL]
				h.set(t, "default.gw", fix)
				if e := c.recv().next(t); e.typeURL != tc.typeURL || e.version != fixVersion || e.nacked {
					t.Fatalf("got %v, want %s accepted", e, fixVersion)
				}
				c.recv().quiet(t)
				eventually(t, "the fix ACKed in Nodes()", func() bool {
					ts := h.typeStatus("default.gw", tc.typeURL)
					return !ts.Rejected && ts.AckedVersion == fixVersion && ts.LastNACK != nil && ts.LastNACK.Version == badVersion
				})
			})
		}
	}
}

func gen1Version(typeURL string) string { return gen{1, 1, 1, 1}.versions()[typeURL] }

// rawRDS is a hand-driven ADS stream that only speaks RDS, for exact request sequences.
type rawRDS struct {
	t         *testing.T
	ads       discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	responses chan *discoveryv3.DiscoveryResponse
}

func dialRawRDS(t *testing.T, h *harness) *rawRDS {
	ctx, cancel := context.WithCancel(context.Background())
	ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawRDS{t: t, ads: ads, responses: make(chan *discoveryv3.DiscoveryResponse, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			resp, err := ads.Recv()
			if err != nil {
				return
			}
			r.responses <- resp
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *rawRDS) send(names []string, req *discoveryv3.DiscoveryRequest) {
	r.t.Helper()
	req.TypeUrl, req.ResourceNames = resource.RouteType, names
	if err := r.ads.Send(req); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawRDS) recv() *discoveryv3.DiscoveryResponse {
	r.t.Helper()
	select {
	case resp := <-r.responses:
		return resp
	case <-time.After(waitFor):
		r.t.Fatal("no response")
	}
	return nil
}

func (r *rawRDS) quiet(after string) {
	r.t.Helper()
	select {
	case resp := <-r.responses:
		r.t.Fatalf("after %s: unexpected response %s at %s", after, shortType(resp.GetTypeUrl()), resp.GetVersionInfo())
	case <-time.After(quietFor):
	}
}

// nackSecondVersion syncs the stream to rds-1 for names, pushes rds-2 and NACKs it; it
// returns the two responses.
func nackSecondVersion(t *testing.T, h *harness, r *rawRDS, names []string) (r1, r2 *discoveryv3.DiscoveryResponse) {
	t.Helper()
	h.set(t, "default.gw", gen{1, 1, 1, 1})
	r.send(names, &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "default.gw"}})
	r1 = r.recv()
	r.send(names, &discoveryv3.DiscoveryRequest{VersionInfo: r1.GetVersionInfo(), ResponseNonce: r1.GetNonce()})
	h.set(t, "default.gw", gen{1, 1, 1, 2})
	r2 = r.recv()
	r.send(names, &discoveryv3.DiscoveryRequest{VersionInfo: r1.GetVersionInfo(), ResponseNonce: r2.GetNonce(), ErrorDetail: &rpcstatus.Status{Message: rejection}})
	r.quiet("the NACK")
	return r1, r2
}

// Envoy re-requests with the NACKed response's nonce when its subscription changes, carrying
// its last accepted version and no error_detail; that must not bring the rejected version back
// either, nor may a request with a stale nonce.
func TestRequestAfterNACKWithSameNonceDoesNotResend(t *testing.T) {
	h := newHarness(t)
	r := dialRawRDS(t, h)
	names := []string{"route-8080", "route-9090"}
	r1, r2 := nackSecondVersion(t, h, r, names)
	r.send(names, &discoveryv3.DiscoveryRequest{VersionInfo: r1.GetVersionInfo(), ResponseNonce: r2.GetNonce()})
	r.quiet("a request with the NACKed response's nonce")
	r.send(names[:1], &discoveryv3.DiscoveryRequest{VersionInfo: r1.GetVersionInfo(), ResponseNonce: r2.GetNonce()})
	r.quiet("a request dropping a name")
	r.send(names[:1], &discoveryv3.DiscoveryRequest{VersionInfo: r1.GetVersionInfo(), ResponseNonce: r1.GetNonce()})
	r.quiet("a request with a stale nonce")
	if got := h.metric(t, "meshgate_xds_acks_total", "type", "route"); got != 1 {
		t.Errorf("acks_total = %v, want 1 (the first response only)", got)
	}
	h.set(t, "default.gw", gen{1, 1, 1, 3})
	if r3 := r.recv(); r3.GetVersionInfo() != "rds-3" {
		t.Fatalf("got %s, want rds-3", r3.GetVersionInfo())
	}
}

// A name the client newly subscribes to while its type is parked is a new question, not a
// retry: it is answered, at the current version, rather than left waiting for the next change.
func TestNewNameAfterNACKIsAnswered(t *testing.T) {
	h := newHarness(t)
	r := dialRawRDS(t, h)
	r1, r2 := nackSecondVersion(t, h, r, []string{"route-8080"})
	both := []string{"route-8080", "route-9090"}
	r.send(both, &discoveryv3.DiscoveryRequest{VersionInfo: r1.GetVersionInfo(), ResponseNonce: r2.GetNonce()})
	resp := r.recv()
	if got := resourceNames(t, resp.GetResources()); !slices.Equal(got, both) || resp.GetVersionInfo() != "rds-2" {
		t.Fatalf("answer = %v at %s, want %v at rds-2", got, resp.GetVersionInfo(), both)
	}
}

// TestUpstreamCacheResendsNACKedVersion pins the go-control-plane behaviour (issue #962) that
// sotwReply works around. If it starts failing, upstream changed and the workaround can go.
func TestUpstreamCacheResendsNACKedVersion(t *testing.T) {
	c := cache.NewSnapshotCache(false, cache.IDHash{}, nil)
	if err := c.SetSnapshot(context.Background(), "default.gw", fixture(t, gen{1, 1, 1, 2})); err != nil {
		t.Fatal(err)
	}
	// The NACK of rds-2: Envoy reports the version it still runs, rds-1.
	nack := &discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: "default.gw"}, TypeUrl: resource.RouteType, VersionInfo: "rds-1",
		ResourceNames: []string{"route-8080"}, ResponseNonce: "2", ErrorDetail: &rpcstatus.Status{Message: rejection},
	}
	sub := streamv3.NewSotwSubscription(nack.GetResourceNames(), true)
	sub.SetReturnedResources(map[string]string{"route-8080": "rds-2"})
	out := make(chan cache.Response, 1)
	cancel, err := c.CreateWatch(nack, &sub, out)
	if err != nil {
		t.Fatal(err)
	}
	if cancel != nil {
		defer cancel()
	}
	select {
	case r := <-out:
		if r.GetResponseVersion() != "rds-2" {
			t.Fatalf("cache answered the NACK with %s", r.GetResponseVersion())
		}
	default:
		t.Fatal("the cache no longer re-sends a NACKed version at once; upstream behaviour changed")
	}
}
