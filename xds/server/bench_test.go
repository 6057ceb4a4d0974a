package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkPushConvergence measures how long a change every gateway shares (one
// MeshGatewayRoute) takes to reach all of them: each iteration sets a new snapshot, differing
// in its routes, for every node, and waits until every stream has ACKed it. p50-ms and p99-ms
// are over every stream's time from the first SetSnapshot to its ACK; bytes/stream is the heap
// growth from connecting and syncing the streams, divided by their number, and includes the
// in-process test clients.
func BenchmarkPushConvergence(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) { benchConvergence(b, n) })
	}
}

const (
	benchStreamsPerConn = 100
	benchClusters       = 5
	benchRoutes         = 20
)

func benchConvergence(b *testing.B, n int) {
	srv, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	served := make(chan struct{})
	go func() { _ = g.Serve(lis); close(served) }()
	defer func() { srv.Close(); g.GracefulStop(); <-served }()

	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("default.gateway-%04d", i)
	}
	base := newBenchBase(b)
	ctx := context.Background()
	for _, node := range nodes {
		if _, err := srv.SetSnapshot(ctx, node, base.snapshot(0)); err != nil {
			b.Fatal(err)
		}
	}

	heapBefore := heapInUse()
	var conns []*grpc.ClientConn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := 0; i < n; i += benchStreamsPerConn {
		c, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	streamCtx, cancel := context.WithCancel(ctx)
	var clients sync.WaitGroup
	defer func() { cancel(); clients.Wait() }()

	var cur atomic.Pointer[benchRound]
	first := newBenchRound("rds-0", n, true)
	cur.Store(first)
	for i, node := range nodes {
		s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conns[i/benchStreamsPerConn]).StreamAggregatedResources(streamCtx)
		if err != nil {
			b.Fatal(err)
		}
		c := &benchClient{idx: i, stream: s, round: &cur}
		if err := c.start(node); err != nil {
			b.Fatal(err)
		}
		clients.Add(1)
		go func() { defer clients.Done(); c.loop() }()
	}
	first.wait(b)
	perStream := float64(heapInUse()-heapBefore) / float64(n)

	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		version := fmt.Sprintf("rds-%d", i+1)
		snaps := make([]*cache.Snapshot, n)
		for k := range snaps {
			snaps[k] = base.snapshot(i + 1)
		}
		r := newBenchRound(version, n, false)
		cur.Store(r)
		b.StartTimer()

		start := time.Now()
		for k, node := range nodes {
			if _, err := srv.SetSnapshot(ctx, node, snaps[k]); err != nil {
				b.Fatal(err)
			}
		}
		r.wait(b)

		b.StopTimer()
		for _, at := range r.acked {
			lat = append(lat, at.Sub(start))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	// Reported last: ResetTimer drops metrics reported before it.
	b.ReportMetric(perStream, "bytes/stream")
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchRound is one change being waited for: every stream records when it ACKed version.
type benchRound struct {
	version string
	all     bool // the first round also waits for every other type
	acked   []time.Time
	left    sync.WaitGroup
}

func newBenchRound(version string, n int, all bool) *benchRound {
	r := &benchRound{version: version, all: all, acked: make([]time.Time, n)}
	r.left.Add(n)
	return r
}

func (r *benchRound) wait(b *testing.B) {
	done := make(chan struct{})
	go func() { r.left.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("streams did not converge on %s", r.version)
	}
}

// benchClient is a minimal Envoy: it knows the fixture's names, subscribes to all four types and
// ACKs everything.
type benchClient struct {
	idx    int
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	round  *atomic.Pointer[benchRound]
	seen   map[string]string // type URL → version ACKed
	done   *benchRound
}

func (c *benchClient) start(node string) error {
	c.seen = map[string]string{}
	reqs := []*discoveryv3.DiscoveryRequest{
		{Node: &corev3.Node{Id: node}, TypeUrl: resource.ClusterType},
		{TypeUrl: resource.EndpointType, ResourceNames: benchClusterNames()},
		{TypeUrl: resource.ListenerType},
		{TypeUrl: resource.RouteType, ResourceNames: []string{"routes"}},
	}
	for _, r := range reqs {
		if err := c.stream.Send(r); err != nil {
			return fmt.Errorf("subscribing: %w", err)
		}
	}
	return nil
}

func (c *benchClient) loop() {
	names := map[string][]string{resource.EndpointType: benchClusterNames(), resource.RouteType: {"routes"}}
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			return
		}
		typ := resp.GetTypeUrl()
		ack := &discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(), ResourceNames: names[typ]}
		if c.stream.Send(ack) != nil {
			return
		}
		now := time.Now()
		c.seen[typ] = resp.GetVersionInfo()
		r := c.round.Load()
		if r == nil || r == c.done || c.seen[resource.RouteType] != r.version || (r.all && len(c.seen) < 4) {
			continue
		}
		c.done = r
		r.acked[c.idx] = now
		r.left.Done()
	}
}

// benchBase is a gateway's configuration: one HTTP listener whose route configuration sends
// benchRoutes host names to benchClusters EDS clusters, each with three endpoints. Only the
// routes change between rounds; the rest is shared, as the builder would produce equal content.
type benchBase struct {
	listeners, clusters, endpoints []types.Resource
}

func benchClusterNames() []string {
	out := make([]string, benchClusters)
	for i := range out {
		out[i] = fmt.Sprintf("service-%d", i)
	}
	return out
}

func newBenchBase(b *testing.B) *benchBase {
	base := &benchBase{listeners: []types.Resource{listener(b, "http-8080", "routes", 8080, 0)}}
	for i, name := range benchClusterNames() {
		base.clusters = append(base.clusters, edsCluster(name, 0))
		cla := assignment(name, i)
		for k := 1; k < 3; k++ {
			cla.Endpoints[0].LbEndpoints = append(cla.Endpoints[0].LbEndpoints, assignment(name, i*10+k).Endpoints[0].LbEndpoints[0])
		}
		base.endpoints = append(base.endpoints, cla)
	}
	return base
}

// snapshot builds a node's snapshot for round; each call builds its own route configuration,
// as the builder does per dataplane.
func (base *benchBase) snapshot(round int) *cache.Snapshot {
	rc := &routev3.RouteConfiguration{Name: "routes"}
	for i := range benchRoutes {
		vh := routeConfig("routes", round).GetVirtualHosts()[0]
		vh.Name = fmt.Sprintf("host-%d", i)
		vh.Domains = []string{fmt.Sprintf("app-%d.r%d.example.com", i, round)}
		vh.GetRoutes()[0].GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: fmt.Sprintf("service-%d", i%benchClusters)}
		rc.VirtualHosts = append(rc.VirtualHosts, vh)
	}
	snap := &cache.Snapshot{}
	snap.Resources[types.Listener] = cache.NewResources("lds-0", base.listeners)
	snap.Resources[types.Route] = cache.NewResources(fmt.Sprintf("rds-%d", round), []types.Resource{rc})
	snap.Resources[types.Cluster] = cache.NewResources("cds-0", base.clusters)
	snap.Resources[types.Endpoint] = cache.NewResources("eds-0", base.endpoints)
	return snap
}
