package scale

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sizesEnv overrides the sizes of every scenario for a quick run: MESHGATE_SCALE_N=200 or
// MESHGATE_SCALE_N=200,1000.
const sizesEnv = "MESHGATE_SCALE_N"

// mtlsEnv, set to 1, turns on builtin mTLS in the mesh (identities and bundles over SDS).
const mtlsEnv = "MESHGATE_SCALE_MTLS"

// BenchmarkScale starts `meshgate run` (built from ./cmd/meshgate, or $MESHGATE_SCALE_BIN) with
// an empty embedded store, applies a scenario through the HTTP API, opens one ADS stream per
// dataplane over TCP from a separate process (one gRPC connection each, subscribing and ACKing
// as Envoy does), then changes one route and one service's endpoints. Every figure is also
// printed as a table.
//
//	full-config-s            load process starts dialing → every stream holds CDS, LDS and every
//	                         EDS, RDS (and SDS) name they reference, ACKed
//	route-p50/p99/max-ms     PUT of one MeshGatewayRoute → each replica holds a new RDS version
//	route-receivers          streams that received anything after the route change
//	endpoint-p50/p99/max-ms  PUT of a new Dataplane in one service → each consumer of that
//	                         service holds a new EDS version
//	endpoint-consumers       streams that should receive it; endpoint-receivers those that
//	                         received anything; endpoint-others those that are no consumer
//	rss-*-MB                 meshgate's VmRSS empty, loaded (no stream), connected, after the changes
//	unconnected-KB/dp        (loaded − empty) / dataplanes known
//	connected-KB/dp          (connected − loaded) / streams
//	rss-after/before         RSS after the changes / RSS connected
//	rebuild-*-ms             mean of meshgate_xds_generation_seconds over the rebuilds a
//	                         phase caused (its Prometheus histogram, from /metrics)
//	cpu-*-s                  meshgate's CPU seconds (process_cpu_seconds_total) in a phase:
//	                         connecting every stream, the route changes, the endpoint changes
//
// Sub-benchmarks: gateway-replicas/n=1000, gateway-replicas/n=5000, sidecars/n=5000; pick with
// -bench, e.g. -bench 'Scale/gateway-replicas/n=1000$'. Latencies include the reconcile
// debounce (meshgate's default, 100 ms). xDS is plain text without tokens (--xds-insecure,
// --xds-auth none): the figures are the configuration work.
//
//	go test -run '^$' -bench Scale -benchtime 1x -timeout 60m ./test/scale/
func BenchmarkScale(b *testing.B) {
	gateway, sidecars := []int{1000, 5000}, []int{5000}
	if env := os.Getenv(sizesEnv); env != "" {
		ns, err := parseSizes(env)
		if err != nil {
			b.Fatal(err)
		}
		gateway, sidecars = ns, ns
	}
	mtls := os.Getenv(mtlsEnv) == "1"
	opt := runOptions{settle: 3 * time.Second, quiet: time.Second}
	b.Run("gateway-replicas", func(b *testing.B) {
		for _, n := range gateway {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchScenario(b, gatewayScenario(n, mtls), opt) })
		}
	})
	b.Run("sidecars", func(b *testing.B) {
		for _, n := range sidecars {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchScenario(b, sidecarScenario(n, mtls), opt) })
		}
	})
}

func benchScenario(b *testing.B, sc scenario, opt runOptions) {
	opt.changes = b.N
	r := runScenario(b, sc, opt)
	// On stdout, not b.Log: the testing package trims a benchmark's log to 10 lines.
	fmt.Printf("--- %s\n%s\n", b.Name(), r.table())
	// The wall time per iteration says nothing here; every figure is its own metric.
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(r.full.max().Seconds(), "full-config-s")
	if len(r.route) > 0 {
		b.ReportMetric(ms(r.route.pct(0.5)), "route-p50-ms")
		b.ReportMetric(ms(r.route.pct(0.99)), "route-p99-ms")
		b.ReportMetric(ms(r.route.max()), "route-max-ms")
		b.ReportMetric(float64(r.routeReceivers), "route-receivers")
		b.ReportMetric(ms(r.routeRebuild.rebuild), "rebuild-route-ms")
		b.ReportMetric(r.routeRebuild.cpu, "cpu-route-s")
	}
	b.ReportMetric(ms(r.endpoint.pct(0.5)), "endpoint-p50-ms")
	b.ReportMetric(ms(r.endpoint.pct(0.99)), "endpoint-p99-ms")
	b.ReportMetric(ms(r.endpoint.max()), "endpoint-max-ms")
	b.ReportMetric(float64(r.endpointWant), "endpoint-consumers")
	b.ReportMetric(float64(r.endpointReceivers), "endpoint-receivers")
	b.ReportMetric(float64(r.endpointOthers), "endpoint-others")
	b.ReportMetric(ms(r.endpointPhase.rebuild), "rebuild-endpoint-ms")
	b.ReportMetric(r.endpointPhase.cpu, "cpu-endpoint-s")
	b.ReportMetric(ms(r.load.rebuild), "rebuild-load-ms")
	b.ReportMetric(r.connect.cpu, "cpu-connect-s")
	b.ReportMetric(r.rssEmpty/1024, "rss-empty-MB")
	b.ReportMetric(r.rssLoaded/1024, "rss-loaded-MB")
	b.ReportMetric(r.rssConnected/1024, "rss-connected-MB")
	b.ReportMetric(r.rssAfter/1024, "rss-after-MB")
	b.ReportMetric(r.unconnectedKB(), "unconnected-KB/dp")
	b.ReportMetric(r.connectedKB(), "connected-KB/dp")
	b.ReportMetric(r.afterRatio(), "rss-after/before")
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 60000 {
			return nil, fmt.Errorf("%s=%q: want sizes between 1 and 60000, comma-separated", sizesEnv, s)
		}
		out = append(out, n)
	}
	return out, nil
}
