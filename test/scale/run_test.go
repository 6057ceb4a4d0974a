package scale

import (
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// runOptions pace a run.
type runOptions struct {
	// changes is how many route and endpoint changes to make (the benchmark's b.N).
	changes int
	// settle is how long to let the process sit before sampling its RSS.
	settle time.Duration
	// quiet is how long no rebuild must follow the last one before a change counts as done
	// (besides the last rebuild's own duration); responses arriving in it still count.
	quiet time.Duration
}

// result is every figure of one run.
type result struct {
	scenario        string
	mtls            bool
	binary          string   // which meshgate was measured
	fullTypes       []string // the xDS types the streams held at full configuration
	known, streams  int
	apply           time.Duration // POST /apply of every resource
	load            phase         // from the apply to the last rebuild it caused
	full            latencies     // per stream: from the load process starting to dial to full configuration
	connect         phase         // from the load process starting to every stream's full configuration
	connectLoadCPU  float64       // CPU seconds the load process used meanwhile
	route           latencies     // per wanted stream and change: PUT sent → new RDS received
	routeRebuild    phase
	routeLoadCPU    float64       // CPU seconds the load process used in the route changes
	routePut        time.Duration // the longest PUT of a route change (until the API answered)
	routeReceivers  int           // streams that received anything after a route change (max over changes)
	endpoint        latencies
	endpointPhase   phase
	endpointLoadCPU float64
	endpointPut     time.Duration
	endpointWant    int
	// endpointReceivers counts streams that received anything after an endpoint change (max
	// over changes); endpointOthers those of them that are no consumer of the changed service.
	endpointReceivers, endpointOthers           int
	rssEmpty, rssLoaded, rssConnected, rssAfter float64 // KiB
}

// phase is what meshgate did in one phase: its rebuilds (how many, mean time) and CPU seconds.
type phase struct {
	rebuilds int64
	rebuild  time.Duration
	cpu      float64
}

func phaseOf(from, to sample) phase {
	mean, n, cpu := to.since(from)
	return phase{rebuilds: n, rebuild: mean, cpu: cpu}
}

func (p phase) String() string {
	return fmt.Sprintf("rebuilds %d × mean %s; meshgate CPU %.1f s", p.rebuilds, p.rebuild.Round(time.Millisecond), p.cpu)
}

func (r result) unconnectedKB() float64 { return (r.rssLoaded - r.rssEmpty) / float64(r.known) }
func (r result) connectedKB() float64   { return (r.rssConnected - r.rssLoaded) / float64(r.streams) }
func (r result) afterRatio() float64    { return r.rssAfter / r.rssConnected }

// runScenario starts meshgate, loads sc, connects every stream and makes the changes.
func runScenario(tb testing.TB, sc scenario, opt runOptions) result {
	tb.Helper()
	n := len(sc.nodes)
	waitLong := 2*time.Minute + time.Duration(n)*30*time.Millisecond
	res := result{scenario: sc.name, mtls: sc.mtls, known: sc.known, streams: n, endpointWant: len(sc.endpointWant)}

	p := startMeshgate(tb, cpOptions{})
	res.binary = describeBinary()
	time.Sleep(opt.settle)
	res.rssEmpty = rssKB(tb, p.pid)

	s0 := scrape(tb, p.diag)
	start := time.Now()
	for _, body := range bodies(sc.docs, 3<<20) {
		p.apply(tb, body)
	}
	res.apply = time.Since(start)
	res.load = phaseOf(s0, waitRebuilt(tb, p, s0, opt.quiet, waitLong))
	time.Sleep(opt.settle)
	res.rssLoaded = rssKB(tb, p.pid)

	s0 = scrape(tb, p.diag)
	f := startFleet(tb, p.xds, sc.nodes)
	res.full = sortedLatencies(f.waitFull(tb, p, waitLong))
	res.fullTypes = f.fullTypes()
	res.connect = phaseOf(s0, scrape(tb, p.diag))
	res.connectLoadCPU = cpuSeconds(tb, f.cmd.Process.Pid)
	time.Sleep(opt.settle)
	res.rssConnected = rssKB(tb, p.pid)

	wanted := map[int]bool{}
	for _, i := range sc.endpointWant {
		wanted[i] = true
	}
	var route, endpoint []time.Duration
	var routeS, endpointS sample
	for k := range opt.changes {
		if sc.routeChange != nil {
			s, loadCPU := scrape(tb, p.diag), cpuSeconds(tb, f.cmd.Process.Pid)
			path, body := sc.routeChange(k)
			t0 := time.Now().UnixNano()
			p.put(tb, path, body)
			res.routePut = max(res.routePut, time.Duration(time.Now().UnixNano()-t0))
			route = append(route, f.waitReceived(tb, p, sc.routeWant, "RDS", t0, waitLong)...)
			routeS = routeS.add(s, waitRebuilt(tb, p, s, opt.quiet, waitLong))
			res.routeLoadCPU += cpuSeconds(tb, f.cmd.Process.Pid) - loadCPU
			res.routeReceivers = max(res.routeReceivers, len(f.receivers(t0)))
		}
		s, loadCPU := scrape(tb, p.diag), cpuSeconds(tb, f.cmd.Process.Pid)
		path, body := sc.endpointChange(k)
		t0 := time.Now().UnixNano()
		p.put(tb, path, body)
		res.endpointPut = max(res.endpointPut, time.Duration(time.Now().UnixNano()-t0))
		endpoint = append(endpoint, f.waitReceived(tb, p, sc.endpointWant, "EDS", t0, waitLong)...)
		endpointS = endpointS.add(s, waitRebuilt(tb, p, s, opt.quiet, waitLong))
		res.endpointLoadCPU += cpuSeconds(tb, f.cmd.Process.Pid) - loadCPU
		got := f.receivers(t0)
		others := 0
		for i := range got {
			if !wanted[i] {
				others++
			}
		}
		res.endpointReceivers, res.endpointOthers = max(res.endpointReceivers, len(got)), max(res.endpointOthers, others)
	}
	res.route, res.endpoint = sortedLatencies(route), sortedLatencies(endpoint)
	res.routeRebuild, res.endpointPhase = phaseOf(sample{}, routeS), phaseOf(sample{}, endpointS)
	time.Sleep(opt.settle)
	res.rssAfter = rssKB(tb, p.pid)
	p.alive(tb)
	return res
}

// table is every figure, for people.
func (r result) table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("scenario", "%s: %d streams, %d dataplanes known, mTLS %v", r.scenario, r.streams, r.known, r.mtls)
	row("meshgate", "%s", r.binary)
	row("apply all resources", "%s; then %s", r.apply.Round(time.Millisecond), r.load)
	row("full configuration", "all %d: %s (p50 %s, p99 %s); %s; load process CPU %.1f s",
		r.streams, r.full.max().Round(time.Millisecond), r.full.pct(0.5).Round(time.Millisecond), r.full.pct(0.99).Round(time.Millisecond),
		r.connect, r.connectLoadCPU)
	row("types held", "%s", strings.Join(r.fullTypes, " "))
	if len(r.route) > 0 {
		row("route change → new RDS", "p50 %s, p99 %s, max %s over %d (PUT answered in %s); %d streams received anything; %s; load process CPU %.1f s",
			r.route.pct(0.5).Round(time.Millisecond), r.route.pct(0.99).Round(time.Millisecond), r.route.max().Round(time.Millisecond),
			len(r.route), r.routePut.Round(time.Millisecond), r.routeReceivers, r.routeRebuild, r.routeLoadCPU)
	}
	row("endpoint change → new EDS", "p50 %s, p99 %s, max %s over %d consumers (PUT answered in %s); %d streams received anything (%d no consumer); %s; load process CPU %.1f s",
		r.endpoint.pct(0.5).Round(time.Millisecond), r.endpoint.pct(0.99).Round(time.Millisecond), r.endpoint.max().Round(time.Millisecond),
		r.endpointWant, r.endpointPut.Round(time.Millisecond), r.endpointReceivers, r.endpointOthers, r.endpointPhase, r.endpointLoadCPU)
	row("RSS empty", "%.1f MB", r.rssEmpty/1024)
	row("RSS loaded, none connected", "%.1f MB (%.1f KB per known dataplane)", r.rssLoaded/1024, r.unconnectedKB())
	row("RSS all connected", "%.1f MB (%.1f KB per connected dataplane)", r.rssConnected/1024, r.connectedKB())
	row("RSS after the changes", "%.1f MB (%.2f× before)", r.rssAfter/1024, r.afterRatio())
	_ = w.Flush()
	return b.String()
}
