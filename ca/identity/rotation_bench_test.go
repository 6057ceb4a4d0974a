package identity

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/meshgate/meshgate/model"
)

// BenchmarkReissueAfterSwitch measures the raw cost of moving 10,000 dataplanes to a new CA
// backend: one operation is a switch of enabledBackend followed by the rebuild that re-issues
// every leaf (no rate limit, no settle time, no jitter), alternating between two builtin
// backends so that every operation re-issues all 10,000.
//
//	go test -run '^$' -bench ReissueAfterSwitch -benchtime 3x ./ca/identity/
//
// one-by-one asks For for each dataplane in turn, as the reconciler did; ForAll asks for them
// at once and signs on GOMAXPROCS goroutines. µs/leaf is wall time per re-issued leaf, so
// one-by-one/ForAll is the speed-up from the cores (at most GOMAXPROCS; less on a shared
// machine). peak-heap-inuse-MB is the high-water mark of runtime.MemStats.HeapInuse, sampled
// every 10 ms while the benchmark runs (it includes the 10,000 cached identities the control
// plane keeps anyway); alloc-MB/op is the TotalAlloc growth per switch.
func BenchmarkReissueAfterSwitch(b *testing.B) {
	for _, mode := range []struct {
		name    string
		rebuild func(testing.TB, *Service, *model.Mesh) rebuilt
	}{{"one-by-one", rebuild}, {"ForAll", rebuildAll}} {
		b.Run(mode.name, func(b *testing.B) { benchReissue(b, mode.rebuild) })
	}
}

func benchReissue(b *testing.B, rebuild func(testing.TB, *Service, *model.Mesh) rebuilt) {
	const n = 10000
	clk := newFakeClock()
	ids := newTestIdentities(b, openTestStore(b, b.TempDir()), RotationOptions{Rate: 0, Tick: 0}, clk)
	meshes := [2]*model.Mesh{rotMesh(n, "ca-1", "ca-1", "ca-2"), rotMesh(n, "ca-2", "ca-1", "ca-2")}
	rebuild(b, ids, meshes[0])

	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	i := 0
	for b.Loop() {
		i++
		out := rebuild(b, ids, meshes[i%2])
		if len(out.ids) != n {
			b.Fatalf("%d identities, want %d", len(out.ids), n)
		}
	}
	runtime.ReadMemStats(&after)
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-inuse-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(i)/(1<<20), "alloc-MB/op")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i*n), "µs/leaf")
}
