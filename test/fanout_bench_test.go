package test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/meshgate/meshgate/ca/servingtls"
	"github.com/meshgate/meshgate/controlplane"
)

const (
	fanoutConsumers      = 1000
	fanoutStreamsPerConn = 100
)

// BenchmarkCrossMeshFanout measures how long moving a cross-mesh gateway takes to reach every
// consumer: 1,000 dataplanes of mesh shop, each with an explicit outbound to mesh payments'
// gateway and its own SVID, hold an ADS stream each (subscribed to all five types, ACKing
// everything, as Envoy does). Each iteration changes the gateway dataplane's address through the
// API and waits until every stream has received the ClusterLoadAssignment with the new address.
// p50-ms, p99-ms and max-ms are over every stream's time from sending the change to receiving
// it, which includes the reconcile debounce (20 ms here). setup-s is the time from applying the
// resources to every stream holding its first endpoints, certificates included;
// non-eds-pushes/op counts responses of any other type per change (expected 0).
//
//	go test -run '^$' -bench CrossMeshFanout -benchtime 1x ./test/
func BenchmarkCrossMeshFanout(b *testing.B) {
	cp := startBenchCP(b)
	var docs strings.Builder
	docs.WriteString(crossMeshMeshes + "\n---\n" + fmt.Sprintf(paymentsGatewayDP, "127.0.1.10") + "\n---\n" + crossMeshPayments)
	for i := range fanoutConsumers {
		fmt.Fprintf(&docs, `
---
type: Dataplane
mesh: shop
name: %s
networking:
  address: 127.1.%d.%d
  inbound: [{port: 8080, tags: {kuma.io/service: cart, kuma.io/protocol: http}}]
  outbound:
    - port: 9080
      tags: {kuma.io/service: payments-gateway, kuma.io/mesh: payments}
`, fanoutName(i), i/250, i%250+1)
	}

	setupStart := time.Now()
	benchCall(b, cp, http.MethodPost, "/apply", docs.String())
	var round atomic.Pointer[fanoutRound]
	first := newFanoutRound("127.0.1.10", fanoutConsumers)
	round.Store(first)
	var others atomic.Int64

	ctx, cancel := context.WithCancel(context.Background())
	var clients sync.WaitGroup
	defer func() { cancel(); clients.Wait() }()
	var conn *grpc.ClientConn
	for i := range fanoutConsumers {
		if i%fanoutStreamsPerConn == 0 {
			var err error
			// TLS as in production: the benchmark pays for encryption as real dataplanes do.
			tlsCfg, err := servingtls.ClientConfig(cp.caPEM, cp.addrs.XDS)
			if err != nil {
				b.Fatal(err)
			}
			conn, err = grpc.NewClient(cp.addrs.XDS, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = conn.Close() })
		}
		stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c := &fanoutClient{idx: i, stream: stream, round: &round, others: &others, first: first, seen: map[string]bool{}}
		if err := c.subscribe("shop." + fanoutName(i)); err != nil {
			b.Fatal(err)
		}
		clients.Add(1)
		go func() { defer clients.Done(); c.loop() }()
	}
	first.wait(b)
	setup := time.Since(setupStart)

	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		addr := fmt.Sprintf("127.0.1.%d", 11+i%200)
		r := newFanoutRound(addr, fanoutConsumers)
		round.Store(r)
		body := fmt.Sprintf(paymentsGatewayDP, addr)
		b.StartTimer()

		start := time.Now()
		benchCall(b, cp, http.MethodPut, "/meshes/payments/dataplanes/payments-gateway-1", body)
		r.wait(b)

		b.StopTimer()
		for _, at := range r.at {
			lat = append(lat, at.Sub(start))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(setup.Seconds(), "setup-s")
	// Moving the gateway changes only endpoints: any other push is waste.
	b.ReportMetric(float64(others.Load())/float64(b.N), "non-eds-pushes/op")
}

func fanoutName(i int) string { return fmt.Sprintf("cart-%04d", i) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fanoutRound is one address change being waited for: every stream records when it received
// the gateway's endpoint at addr.
type fanoutRound struct {
	addr string
	at   []time.Time
	left sync.WaitGroup
}

func newFanoutRound(addr string, n int) *fanoutRound {
	r := &fanoutRound{addr: addr, at: make([]time.Time, n)}
	r.left.Add(n)
	return r
}

func (r *fanoutRound) wait(b *testing.B) {
	b.Helper()
	done := make(chan struct{})
	go func() { r.left.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		b.Fatalf("streams did not all receive the gateway at %s", r.addr)
	}
}

// fanoutClient is a minimal consumer Envoy: it subscribes to what a cart dataplane's
// configuration references and ACKs every response.
type fanoutClient struct {
	idx    int
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	round  *atomic.Pointer[fanoutRound]
	done   *fanoutRound
	// others counts responses of other types than endpoints once the first round is done.
	others *atomic.Int64
	first  *fanoutRound
	seen   map[string]bool // types received
	got    string          // the gateway address last received
}

var fanoutNames = map[string][]string{
	resourcev3.EndpointType: {crossMeshCluster},
	resourcev3.RouteType:    {"inbound:cart"},
	resourcev3.SecretType:   {"identity_cert:secret:shop", "mesh_ca:secret:payments", "mesh_ca:secret:shop"},
}

func (c *fanoutClient) subscribe(node string) error {
	reqs := []*discoveryv3.DiscoveryRequest{
		{Node: &corev3.Node{Id: node}, TypeUrl: resourcev3.ClusterType},
		{TypeUrl: resourcev3.EndpointType, ResourceNames: fanoutNames[resourcev3.EndpointType]},
		{TypeUrl: resourcev3.ListenerType},
		{TypeUrl: resourcev3.RouteType, ResourceNames: fanoutNames[resourcev3.RouteType]},
		{TypeUrl: resourcev3.SecretType, ResourceNames: fanoutNames[resourcev3.SecretType]},
	}
	for _, r := range reqs {
		if err := c.stream.Send(r); err != nil {
			return fmt.Errorf("subscribing: %w", err)
		}
	}
	return nil
}

func (c *fanoutClient) loop() {
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			return
		}
		now := time.Now()
		typ := resp.GetTypeUrl()
		ack := &discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(), ResourceNames: fanoutNames[typ]}
		if c.stream.Send(ack) != nil {
			return
		}
		r := c.round.Load()
		if typ != resourcev3.EndpointType && r != c.first {
			c.others.Add(1)
		}
		c.seen[typ] = true
		if typ == resourcev3.EndpointType {
			for _, a := range resp.GetResources() {
				var cla endpointv3.ClusterLoadAssignment
				if a.UnmarshalTo(&cla) == nil && cla.GetClusterName() == crossMeshCluster {
					if addrs := endpointAddrs(&cla); len(addrs) == 1 {
						c.got = addrs[0]
					}
				}
			}
		}
		// The first round also waits for every type, so that no start-up push is counted later.
		if r == c.done || c.got != r.addr+":8080" || (r == c.first && len(c.seen) < 5) {
			continue
		}
		c.done = r
		r.at[c.idx] = now
		r.left.Done()
	}
}

// startBenchCP starts a control plane as startCP does, with xDS authentication off: the
// benchmark measures pushes, not the issuance and checking of a thousand tokens.
func startBenchCP(b *testing.B) *runningCP {
	b.Helper()
	cfg := controlplane.DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir = b.TempDir()
	cfg.Debounce = 20 * time.Millisecond
	cfg.XDSAuth = controlplane.XDSAuthNone
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := controlplane.New(ctx, cfg)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	select {
	case <-cp.Ready():
	case err := <-done:
		cancel()
		b.Fatalf("control plane stopped before ready: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		b.Fatal("control plane not ready within 10s")
	}
	b.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				b.Error(err)
			}
		case <-time.After(15 * time.Second):
			b.Error("control plane did not stop within 15s")
		}
	})
	return &runningCP{addrs: cp.Addrs(), caPEM: cp.ControlPlaneCA(), stop: cancel}
}

func benchCall(b *testing.B, cp *runningCP, method, path, body string) {
	b.Helper()
	req, err := http.NewRequest(method, "http://"+cp.addrs.API+path, bytes.NewReader([]byte(body)))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
}
