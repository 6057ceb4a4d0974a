package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// event is one response a test client received, and what it answered.
type event struct {
	typeURL string
	version string // version_info, or system_version_info for delta
	names   []string
	removed []string
	nacked  bool
}

func (e event) String() string {
	verdict := "ACK"
	if e.nacked {
		verdict = "NACK"
	}
	return fmt.Sprintf("%s %s %v removed=%v %s", shortType(e.typeURL), e.version, e.names, e.removed, verdict)
}

func shortType(u string) string { return u[strings.LastIndex(u, ".")+1:] }

// xdsClient is an Envoy-like ADS client: it subscribes to listeners and clusters by wildcard,
// to the route configurations and cluster load assignments they name, and answers every
// response with an ACK, or a NACK when reject says so.
type xdsClient interface {
	recv() *recorder
	// rejectWith makes the client NACK, with the message f returns, any response for which it
	// returns non-empty.
	rejectWith(f func(typeURL, version string) string)
	close()
}

// recorder hands received responses to the test.
type recorder struct {
	events chan event
	done   chan struct{}
	err    error // why the stream ended; read after done
	cancel context.CancelFunc
	ctx    context.Context

	mu     sync.Mutex
	reject func(typeURL, version string) string
}

func newRecorder(parent context.Context) *recorder {
	ctx, cancel := context.WithCancel(parent)
	return &recorder{events: make(chan event, 256), done: make(chan struct{}), ctx: ctx, cancel: cancel}
}

func (r *recorder) recv() *recorder { return r }

func (r *recorder) rejectWith(f func(typeURL, version string) string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reject = f
}

func (r *recorder) verdict(typeURL, version string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reject == nil {
		return ""
	}
	return r.reject(typeURL, version)
}

func (r *recorder) emit(e event) {
	select {
	case r.events <- e:
	case <-r.ctx.Done():
	}
}

func (r *recorder) close() {
	r.cancel()
	<-r.done
}

// next returns the next response, failing the test if none comes in time.
func (r *recorder) next(t *testing.T) event {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-r.done:
		t.Fatalf("stream ended while waiting for a response: %v", r.err)
	case <-time.After(waitFor):
		t.Fatalf("no response within %v", waitFor)
	}
	return event{}
}

// quiet fails the test if any response arrives within quietFor.
func (r *recorder) quiet(t *testing.T) {
	t.Helper()
	r.quietFor(t, quietFor)
}

func (r *recorder) quietFor(t *testing.T, d time.Duration) {
	t.Helper()
	var got []event
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e := <-r.events:
			got = append(got, e)
		case <-timer.C:
			if len(got) > 0 {
				t.Fatalf("expected no response for %v, got %d: %v", d, len(got), got)
			}
			return
		}
	}
}

// sync reads the responses of a fresh stream: exactly one per fixture type, each at the
// version g gives it, each ACKed.
func (r *recorder) sync(t *testing.T, g gen) {
	t.Helper()
	want := g.versions()
	got := map[string]event{}
	for len(got) < len(want) {
		e := r.next(t)
		if _, dup := got[e.typeURL]; dup || want[e.typeURL] != e.version || e.nacked {
			t.Fatalf("while syncing to %v: unexpected %v (already got %v)", want, e, got)
		}
		got[e.typeURL] = e
	}
	r.quiet(t)
}

// ended waits for the stream to end and returns why.
func (r *recorder) ended(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(waitFor):
		t.Fatalf("stream still open after %v", waitFor)
	}
	return nil
}

// Envoy follows the references in listeners and clusters to decide which route configurations
// and load assignments to ask for; so do the test clients.

func routeNames(t *testing.T, listeners []*anypb.Any) []string {
	var out []string
	for _, a := range listeners {
		l := &listenerv3.Listener{}
		if err := a.UnmarshalTo(l); err != nil {
			t.Errorf("decoding listener: %v", err)
			continue
		}
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(hcm) != nil {
					continue
				}
				if n := hcm.GetRds().GetRouteConfigName(); n != "" {
					out = append(out, n)
				}
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func edsNames(t *testing.T, clusters []*anypb.Any) []string {
	var out []string
	for _, a := range clusters {
		c := &clusterv3.Cluster{}
		if err := a.UnmarshalTo(c); err != nil {
			t.Errorf("decoding cluster: %v", err)
			continue
		}
		if c.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		name := c.GetEdsClusterConfig().GetServiceName()
		if name == "" {
			name = c.GetName()
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func resourceNames(t *testing.T, res []*anypb.Any) []string {
	out := make([]string, 0, len(res))
	for _, a := range res {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Errorf("decoding %s: %v", a.GetTypeUrl(), err)
			continue
		}
		out = append(out, cache.GetResourceName(m))
	}
	sort.Strings(out)
	return out
}

// dependent is the type whose subscription follows the references in typeURL's resources.
func dependent(typeURL string) (string, func(*testing.T, []*anypb.Any) []string) {
	switch typeURL {
	case resource.ListenerType:
		return resource.RouteType, routeNames
	case resource.ClusterType:
		return resource.EndpointType, edsNames
	}
	return "", nil
}
