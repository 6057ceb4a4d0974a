package scale

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssKB is the resident set of process pid in KiB (VmRSS of /proc/<pid>/status).
func rssKB(tb testing.TB, pid int) float64 {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("reading the RSS of meshgate (pid %d): %v", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				tb.Fatalf("VmRSS line %q: %v", sc.Text(), err)
			}
			return kb
		}
	}
	tb.Fatalf("/proc/%d/status has no VmRSS line", pid)
	return 0
}

// generations is the control plane's rebuild histogram meshgate_xds_generation_seconds as
// scraped from /metrics: how many rebuilds ran and how long they took in total.
type generations struct {
	count int64
	sum   float64
}

// since is the mean rebuild time and the number of rebuilds between g0 and g.
func (g generations) since(g0 generations) (mean time.Duration, n int64) {
	n = g.count - g0.count
	if n <= 0 {
		return 0, 0
	}
	return time.Duration((g.sum - g0.sum) / float64(n) * float64(time.Second)), n
}

const generationMetric = "meshgate_xds_generation_seconds"

// scrapeGenerations reads the rebuild histogram from the diagnostics endpoint.
func scrapeGenerations(tb testing.TB, diag string) generations {
	tb.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + diag + "/metrics")
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %s", resp.Status)
	}
	g, err := parseGenerations(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func parseGenerations(r io.Reader) (generations, error) {
	var g generations
	var haveSum, haveCount bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case generationMetric + "_sum":
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return g, fmt.Errorf("%s: %w", sc.Text(), err)
			}
			g.sum, haveSum = v, true
		case generationMetric + "_count":
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return g, fmt.Errorf("%s: %w", sc.Text(), err)
			}
			g.count, haveCount = int64(v), true
		}
	}
	if err := sc.Err(); err != nil {
		return g, fmt.Errorf("reading /metrics: %w", err)
	}
	if !haveSum || !haveCount {
		return g, fmt.Errorf("/metrics has no %s histogram", generationMetric)
	}
	return g, nil
}

// waitRebuilt waits until the control plane has rebuilt after a change made when the
// histogram read g0, and no further rebuild follows: at least one rebuild ended after g0, and
// none for longer than the last one took (plus quiet), so one that was still pending when the
// last ended would have ended too. It returns the histogram at that point.
func waitRebuilt(tb testing.TB, p *meshgateProc, g0 generations, quiet, timeout time.Duration) generations {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	last, lastChange := g0, time.Now()
	var lastTook time.Duration
	for {
		p.alive(tb)
		g := scrapeGenerations(tb, p.diag)
		if g.count != last.count {
			lastTook, _ = g.since(last)
			last, lastChange = g, time.Now()
		}
		if last.count > g0.count && time.Since(lastChange) > quiet+lastTook {
			return last
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the control plane did not finish rebuilding within %s: %d rebuilds since the change, the last %s ago\n%s",
				timeout, last.count-g0.count, time.Since(lastChange).Round(time.Millisecond), p.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// latencies are per-stream delays, sorted.
type latencies []time.Duration

func sortedLatencies(d []time.Duration) latencies {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	// Nearest rank: the smallest value at least a share p of the streams reached.
	i := int(math.Ceil(p*float64(len(l)))) - 1
	return l[max(i, 0)]
}

func (l latencies) max() time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
