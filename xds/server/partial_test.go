package server

import (
	"context"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
)

// Requests naming only some of a type's resources: Envoy's RDS and EDS while it replaces a
// listener or cluster, and gRPC clients, which ask for every type by name.
var partialRequests = []struct {
	name    string
	typeURL string
	names   []string
}{
	{"RDS subset", resource.RouteType, []string{"route-8080"}},
	{"EDS subset", resource.EndpointType, []string{"backend"}},
	{"LDS by name, as gRPC clients ask", resource.ListenerType, []string{"http-9090"}},
	{"CDS by name, as gRPC clients ask", resource.ClusterType, []string{"api"}},
}

func TestPartialRequestIsAnsweredSotw(t *testing.T) {
	h := newHarness(t)
	g := gen{1, 1, 1, 1}
	h.set(t, "default.gw", g)
	for _, pr := range partialRequests {
		t.Run(pr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).StreamAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "default.gw"}, TypeUrl: pr.typeURL, ResourceNames: pr.names}
			if err := ads.Send(req); err != nil {
				t.Fatal(err)
			}
			resp, err := ads.Recv()
			if err != nil {
				t.Fatalf("no answer to %v: %v", pr.names, err)
			}
			if got := resourceNames(t, resp.GetResources()); !slices.Equal(got, pr.names) || resp.GetVersionInfo() != g.versions()[pr.typeURL] {
				t.Errorf("answer = %v at %q, want exactly %v at %q", got, resp.GetVersionInfo(), pr.names, g.versions()[pr.typeURL])
			}
		})
	}
}

func TestPartialRequestIsAnsweredDelta(t *testing.T) {
	h := newHarness(t)
	g := gen{1, 1, 1, 1}
	h.set(t, "default.gw", g)
	for _, pr := range partialRequests {
		t.Run(pr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).DeltaAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			req := &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "default.gw"}, TypeUrl: pr.typeURL, ResourceNamesSubscribe: pr.names}
			if err := ads.Send(req); err != nil {
				t.Fatal(err)
			}
			resp, err := ads.Recv()
			if err != nil {
				t.Fatalf("no answer to %v: %v", pr.names, err)
			}
			var got []string
			for _, r := range resp.GetResources() {
				got = append(got, r.GetName())
			}
			if !slices.Equal(got, pr.names) {
				t.Errorf("answer = %v, want exactly %v", got, pr.names)
			}
		})
	}
}

// The per-type services are served from the same snapshots; a subset on a plain RDS stream is
// answered too.
func TestPartialRequestIsAnsweredOnRouteDiscoveryService(t *testing.T) {
	h := newHarness(t)
	h.set(t, "default.gw", gen{1, 1, 1, 1})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	rds, err := routeservice.NewRouteDiscoveryServiceClient(h.conn).StreamRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rds.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "default.gw"}, ResourceNames: []string{"route-9090"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := rds.Recv()
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if got := resourceNames(t, resp.GetResources()); !slices.Equal(got, []string{"route-9090"}) || resp.GetTypeUrl() != resource.RouteType {
		t.Errorf("answer = %s %v, want RouteConfiguration [route-9090]", resp.GetTypeUrl(), got)
	}
}

// TestUpstreamADSCacheIgnoresPartialRequest pins the go-control-plane behaviour this package
// avoids by running the cache in non-ADS mode. If it starts failing, upstream changed and the
// choice can be revisited.
func TestUpstreamADSCacheIgnoresPartialRequest(t *testing.T) {
	c := cache.NewSnapshotCache(true, cache.IDHash{}, nil)
	if err := c.SetSnapshot(context.Background(), "default.gw", fixture(t, gen{1, 1, 1, 1})); err != nil {
		t.Fatal(err)
	}
	req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "default.gw"}, TypeUrl: resource.RouteType, ResourceNames: []string{"route-8080"}}
	out := make(chan cache.Response, 1)
	sub := streamv3.NewSotwSubscription(req.GetResourceNames(), true)
	cancel, err := c.CreateWatch(req, &sub, out)
	if err != nil {
		t.Fatal(err)
	}
	if cancel != nil {
		defer cancel()
	}
	select {
	case r := <-out:
		t.Fatalf("ADS-mode cache answered a partial request (%v); upstream behaviour changed", r.GetReturnedResources())
	case <-time.After(50 * time.Millisecond):
	}
}
