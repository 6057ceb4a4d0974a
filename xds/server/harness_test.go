package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	// waitFor bounds every wait for something that must happen.
	waitFor = 10 * time.Second
	// quietFor is how long nothing must arrive for a test to conclude nothing was sent; a push
	// that does happen arrives within milliseconds.
	quietFor = 300 * time.Millisecond
)

// harness is a Server on a real TCP listener on 127.0.0.1, with a client connection to it.
type harness struct {
	srv  *Server
	reg  *prometheus.Registry
	conn *grpc.ClientConn
	logs *syncBuffer
	grpc *grpc.Server
}

func newHarness(t *testing.T, configure ...func(*Options)) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opts := Options{
		Logger:     slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Registerer: h.reg,
	}
	for _, c := range configure {
		c(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h.grpc = grpc.NewServer()
	srv.Register(h.grpc)
	served := make(chan error, 1)
	go func() { served <- h.grpc.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	h.conn = conn
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Close()
		stopped := make(chan struct{})
		go func() { h.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(waitFor):
			t.Errorf("grpc.Server.GracefulStop did not return after Server.Close")
			h.grpc.Stop()
		}
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

func (h *harness) set(t *testing.T, node string, g gen) bool {
	t.Helper()
	changed, err := h.srv.SetSnapshot(context.Background(), node, fixture(t, g))
	if err != nil {
		t.Fatalf("SetSnapshot(%s, %+v): %v", node, g, err)
	}
	return changed
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) node(id string) (NodeStatus, bool) {
	for _, n := range h.srv.Nodes() {
		if n.Node == id {
			return n, true
		}
	}
	return NodeStatus{}, false
}

func (h *harness) typeStatus(id, typeURL string) TypeStatus {
	n, _ := h.node(id)
	for _, ts := range n.Types {
		if ts.TypeURL == typeURL {
			return ts
		}
	}
	return TypeStatus{}
}

// metric returns a counter's or gauge's value, or a histogram's sample count, for the series
// of name with exactly the given labels; 0 when absent.
func (h *harness) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !labelsMatch(m, want) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, l := range m.GetLabel() {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}
