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

// sample is what the benchmark reads from meshgate's /metrics: its rebuild histogram
// meshgate_xds_generation_seconds (how many rebuilds ran and how long they took in total) and
// the CPU time it has used.
type sample struct {
	count int64
	sum   float64
	cpu   float64 // process_cpu_seconds_total
}

// since is the mean rebuild time, the number of rebuilds and the CPU seconds between s0 and s.
func (s sample) since(s0 sample) (mean time.Duration, n int64, cpu float64) {
	n, cpu = s.count-s0.count, s.cpu-s0.cpu
	if n <= 0 {
		return 0, 0, cpu
	}
	return time.Duration((s.sum - s0.sum) / float64(n) * float64(time.Second)), n, cpu
}

// add accumulates what happened between from and to.
func (s sample) add(from, to sample) sample {
	return sample{count: s.count + to.count - from.count, sum: s.sum + to.sum - from.sum, cpu: s.cpu + to.cpu - from.cpu}
}

const (
	generationMetric = "meshgate_xds_generation_seconds"
	cpuMetric        = "process_cpu_seconds_total"
)

// scrape reads the diagnostics endpoint's /metrics.
func scrape(tb testing.TB, diag string) sample {
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
	s, err := parseMetrics(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func parseMetrics(r io.Reader) (sample, error) {
	var s sample
	want := map[string]*float64{generationMetric + "_sum": &s.sum, cpuMetric: &s.cpu}
	var count float64
	want[generationMetric+"_count"] = &count
	seen := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || want[name] == nil {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return s, fmt.Errorf("/metrics: %s: %w", sc.Text(), err)
		}
		*want[name] = v
		seen++
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("reading /metrics: %w", err)
	}
	if seen != len(want) {
		return s, fmt.Errorf("/metrics lacks %s or %s", generationMetric, cpuMetric)
	}
	s.count = int64(count)
	return s, nil
}

// waitRebuilt waits until the control plane has rebuilt after a change made when /metrics
// read s0, and no further rebuild follows: at least one rebuild ended after s0, and none for
// longer than the last one took (plus quiet), so one that was still pending when the last
// ended would have ended too. It returns /metrics at that point.
func waitRebuilt(tb testing.TB, p *meshgateProc, s0 sample, quiet, timeout time.Duration) sample {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	last, lastChange := s0, time.Now()
	var lastTook time.Duration
	for {
		p.alive(tb)
		s := scrape(tb, p.diag)
		if s.count != last.count {
			lastTook, _, _ = s.since(last)
			last, lastChange = s, time.Now()
		}
		if last.count > s0.count && time.Since(lastChange) > quiet+lastTook {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the control plane did not finish rebuilding within %s: %d rebuilds since the change, the last %s ago\n%s",
				timeout, last.count-s0.count, time.Since(lastChange).Round(time.Millisecond), p.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cpuSeconds is the user and system CPU time process pid has used, from /proc/<pid>/stat
// (fields 14 and 15, in USER_HZ, which Linux fixes at 100 for /proc).
func cpuSeconds(tb testing.TB, pid int) float64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatalf("reading the CPU time of pid %d: %v", pid, err)
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis
	// start at field 3.
	i := strings.LastIndexByte(string(raw), ')')
	fields := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(fields) < 13 {
		tb.Fatalf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	var ticks float64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			tb.Fatalf("/proc/%d/stat: %q: %v", pid, f, err)
		}
		ticks += v
	}
	return ticks / 100
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
