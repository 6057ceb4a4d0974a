package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("stream ended with %v, want %v", err, code)
	}
}

func TestClearSnapshotEndsTheNodesStreams(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			g := gen{1, 1, 1, 1}
			h.set(t, "default.gw", g)
			h.set(t, "default.other", g)
			c := p.dial(t, h, "default.gw")
			other := p.dial(t, h, "default.other")
			c.recv().sync(t, g)
			other.recv().sync(t, g)

			h.srv.ClearSnapshot("default.gw")
			wantCode(t, c.recv().ended(t), codes.Unavailable)
			other.recv().quiet(t)
			eventually(t, "the node to leave Nodes()", func() bool {
				_, ok := h.node("default.gw")
				return !ok
			})

			// The reconnecting client waits for a snapshot, then gets it whole.
			again := p.dial(t, h, "default.gw")
			again.recv().quiet(t)
			h.set(t, "default.gw", gen{2, 2, 2, 2})
			again.recv().sync(t, gen{2, 2, 2, 2})
		})
	}
}

func TestCloseEndsEveryStream(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			h.set(t, "default.gw", gen{1, 1, 1, 1})
			c := p.dial(t, h, "default.gw")
			c.recv().sync(t, gen{1, 1, 1, 1})
			if got := h.metric(t, "meshgate_xds_streams", "protocol", p.name); got != 1 {
				t.Errorf("streams{protocol=%q} = %v, want 1", p.name, got)
			}
			h.srv.Close()
			wantCode(t, c.recv().ended(t), codes.Unavailable)
			eventually(t, "the stream gauge to drop", func() bool {
				return h.metric(t, "meshgate_xds_streams", "protocol", p.name) == 0
			})
			// The harness's cleanup then checks GracefulStop returns.
		})
	}
}

func TestAuthenticate(t *testing.T) {
	var sawPeer atomic.Bool
	h := newHarness(t, func(o *Options) {
		o.Authenticate = func(ctx context.Context, node *corev3.Node) error {
			_, ok := peer.FromContext(ctx)
			sawPeer.Store(ok)
			switch node.GetId() {
			case "default.intruder":
				return errors.New("no token")
			case "default.banned":
				return status.Error(codes.PermissionDenied, "banned")
			}
			return nil
		}
	})
	g := gen{1, 1, 1, 1}
	for _, node := range []string{"default.gw", "default.intruder", "default.banned"} {
		h.set(t, node, g)
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			p.dial(t, h, "default.gw").recv().sync(t, g)
			if !sawPeer.Load() {
				t.Error("Authenticate's context carries no peer")
			}
			wantCode(t, p.dial(t, h, "default.intruder").recv().ended(t), codes.Unauthenticated)
			wantCode(t, p.dial(t, h, "default.banned").recv().ended(t), codes.PermissionDenied)
		})
	}
}

func TestStreamCannotSwitchNodes(t *testing.T) {
	h := newHarness(t)
	h.set(t, "default.gw", gen{1, 1, 1, 1})
	h.set(t, "other.gw", gen{1, 1, 1, 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "default.gw"}, TypeUrl: resource.ClusterType}); err != nil {
		t.Fatal(err)
	}
	if _, err := ads.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "other.gw"}, TypeUrl: resource.ListenerType}); err != nil {
		t.Fatal(err)
	}
	_, err = ads.Recv()
	wantCode(t, err, codes.PermissionDenied)
}

func TestFirstRequestNeedsANode(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType}); err != nil {
		t.Fatal(err)
	}
	_, err = ads.Recv()
	wantCode(t, err, codes.InvalidArgument)
}

func TestSetSnapshotRejectsBadArguments(t *testing.T) {
	h := newHarness(t)
	if _, err := h.srv.SetSnapshot(context.Background(), "", fixture(t, gen{})); err == nil {
		t.Error("empty node accepted")
	}
	if _, err := h.srv.SetSnapshot(context.Background(), "default.gw", nil); err == nil {
		t.Error("nil snapshot accepted")
	}
}

func TestNewRefusesARegistryThatHasTheMetrics(t *testing.T) {
	h := newHarness(t)
	if _, err := New(Options{Registerer: h.reg}); err == nil {
		t.Fatal("second Server registered into the same registry")
	}
	// The failed attempt left the first server's metrics in place.
	if _, err := h.reg.Gather(); err != nil {
		t.Fatal(err)
	}
}
