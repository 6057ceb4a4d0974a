package scale

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// fleet is the parent's side of the load process: it starts it, and keeps what every stream
// reported.
type fleet struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
	logs   *logTail
	nodes  []string

	mu       sync.Mutex
	start    int64               // when the load process began dialing (unix ns)
	fullAt   []int64             // per stream: when it first held its full configuration (0: not yet)
	fullVers []map[string]string // per stream: the versions it then held, by type
	events   [][]recvEvent       // per stream: every response after that
	errs     []string
	readErr  error
	closed   bool
}

type recvEvent struct {
	at      int64
	typ     string
	version string
}

// startFleet starts the load process with one stream per node, its connections spread over
// source addresses 127.0.0.2 … 127.0.0.254.
func startFleet(tb testing.TB, xds string, nodes []string) *fleet {
	tb.Helper()
	f := &fleet{
		nodes: nodes, exited: make(chan struct{}), logs: newLogTail(20),
		fullAt: make([]int64, len(nodes)), fullVers: make([]map[string]string, len(nodes)), events: make([][]recvEvent, len(nodes)),
	}
	f.cmd = exec.Command(os.Args[0], "-test.run=^$")
	f.cmd.Env = append(os.Environ(), loadEnv+"=1")
	var err error
	if f.stdin, err = f.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stderr, err := f.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		tb.Fatalf("starting the load process: %v", err)
	}
	tb.Cleanup(f.stop)
	go f.logs.read(stderr, "", nil)
	go f.read(stdout)
	spec, err := json.Marshal(loadSpec{XDS: xds, Nodes: nodes, FirstSource: 2, Sources: 253, DialConcurrency: 128})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.stdin.Write(append(spec, '\n')); err != nil {
		tb.Fatalf("sending the load process its orders: %v", err)
	}
	return f
}

// stop closes the load process's stdin, which ends it; it is killed if it has not exited
// within 15 s.
func (f *fleet) stop() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.mu.Unlock()
	_ = f.stdin.Close()
	select {
	case <-f.exited:
	case <-time.After(15 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
	}
}

// read takes the load process's events until it exits, then waits for it.
func (f *fleet) read(stdout io.Reader) {
	defer func() { _ = f.cmd.Wait(); close(f.exited) }()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev loadEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			f.mu.Lock()
			f.readErr = fmt.Errorf("load process line %q: %w", sc.Text(), err)
			f.mu.Unlock()
			continue
		}
		f.mu.Lock()
		switch ev.E {
		case "start":
			f.start = ev.T
		case "full":
			if ev.I >= 0 && ev.I < len(f.fullAt) {
				f.fullAt[ev.I], f.fullVers[ev.I] = ev.T, ev.Vs
			}
		case "recv":
			if ev.I >= 0 && ev.I < len(f.events) {
				f.events[ev.I] = append(f.events[ev.I], recvEvent{at: ev.T, typ: ev.Y, version: ev.V})
			}
		case "err":
			f.errs = append(f.errs, ev.Err)
		}
		f.mu.Unlock()
	}
}

// problemLocked reports a failed stream or an ended load process; callers hold f.mu (and must
// release it before failing the test: cleanups take it).
func (f *fleet) problemLocked() string {
	if len(f.errs) > 0 {
		return fmt.Sprintf("%d ADS streams failed, e.g. %s", len(f.errs), f.errs[0])
	}
	if f.readErr != nil {
		return f.readErr.Error()
	}
	select {
	case <-f.exited:
		if !f.closed {
			return fmt.Sprintf("the load process exited: %v\n%s", f.cmd.ProcessState, f.logs)
		}
	default:
	}
	return ""
}

// waitUntil polls cond (under f.mu) until it holds; on timeout it fails with missing().
func (f *fleet) waitUntil(tb testing.TB, p *meshgateProc, timeout time.Duration, cond func() bool, missing func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		problem := f.problemLocked()
		ok := problem == "" && cond()
		var what string
		if !ok && problem == "" && time.Now().After(deadline) {
			what = missing()
		}
		f.mu.Unlock()
		if problem != "" {
			tb.Fatal(problem)
		}
		if ok {
			return
		}
		if what != "" {
			tb.Fatalf("after %s: %s\n%s", timeout, what, p.logs)
		}
		p.alive(tb)
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFull waits until every stream holds its full configuration and returns each one's time
// from the load process starting to dial.
func (f *fleet) waitFull(tb testing.TB, p *meshgateProc, timeout time.Duration) []time.Duration {
	tb.Helper()
	f.waitUntil(tb, p, timeout, func() bool {
		for _, at := range f.fullAt {
			if at == 0 {
				return false
			}
		}
		return true
	}, func() string {
		return "streams without their full configuration (CDS, LDS and every EDS, RDS and SDS name they reference): " +
			f.listLocked(func(i int) bool { return f.fullAt[i] == 0 })
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Duration, len(f.fullAt))
	for i, at := range f.fullAt {
		out[i] = time.Duration(at - f.start)
	}
	return out
}

// fullTypes are the xDS types any stream held at its full configuration, sorted.
func (f *fleet) fullTypes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, vs := range f.fullVers {
		for typ := range vs {
			out = append(out, typ)
		}
	}
	return sortedSet(out)
}

// baselineLocked is the version of typ stream i held before since.
func (f *fleet) baselineLocked(i int, typ string, since int64) string {
	v := f.fullVers[i][typ]
	for _, ev := range f.events[i] {
		if ev.at < since && ev.typ == typ {
			v = ev.version
		}
	}
	return v
}

// receivedLocked is when stream i first received a version of typ other than the one it held
// at since (0: not yet).
func (f *fleet) receivedLocked(i int, typ string, since int64) int64 {
	base := f.baselineLocked(i, typ, since)
	for _, ev := range f.events[i] {
		if ev.at >= since && ev.typ == typ && ev.version != base {
			return ev.at
		}
	}
	return 0
}

// waitReceived waits until every stream in want has received a new version of typ after since
// (unix ns) and returns each one's delay.
func (f *fleet) waitReceived(tb testing.TB, p *meshgateProc, want []int, typ string, since int64, timeout time.Duration) []time.Duration {
	tb.Helper()
	f.waitUntil(tb, p, timeout, func() bool {
		for _, i := range want {
			if f.receivedLocked(i, typ, since) == 0 {
				return false
			}
		}
		return true
	}, func() string {
		wanted := map[int]bool{}
		for _, i := range want {
			wanted[i] = true
		}
		return fmt.Sprintf("streams that did not receive a new %s version: %s", typ,
			f.listLocked(func(i int) bool { return wanted[i] && f.receivedLocked(i, typ, since) == 0 }))
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Duration, 0, len(want))
	for _, i := range want {
		out = append(out, time.Duration(f.receivedLocked(i, typ, since)-since))
	}
	return out
}

// receivers are the streams that received anything at or after since.
func (f *fleet) receivers(since int64) map[int]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]bool{}
	for i, evs := range f.events {
		for _, ev := range evs {
			if ev.at >= since {
				out[i] = true
				break
			}
		}
	}
	return out
}

// listLocked names the streams matching pick: how many, and the first few.
func (f *fleet) listLocked(pick func(i int) bool) string {
	var names []string
	n := 0
	for i := range f.nodes {
		if pick(i) {
			n++
			if len(names) < 10 {
				names = append(names, f.nodes[i])
			}
		}
	}
	return fmt.Sprintf("%d of %d, e.g. %s", n, len(f.nodes), strings.Join(names, ", "))
}
