package server

import (
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// protocols runs a test body against both ADS variants, served from the same snapshots.
var protocols = []struct {
	name string
	dial func(*testing.T, *harness, string) xdsClient
}{
	{"sotw", dialSotw},
	{"delta", dialDelta},
}

func TestInitialConfigurationIsServedAndACKed(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			g := gen{1, 1, 1, 1}
			if !h.set(t, "default.gw", g) {
				t.Fatal("first SetSnapshot reported no change")
			}
			c := p.dial(t, h, "default.gw")
			c.recv().sync(t, g)

			eventually(t, "every type ACKed in Nodes()", func() bool {
				for typ, v := range g.versions() {
					ts := h.typeStatus("default.gw", typ)
					if ts.SentVersion != v || ts.AckedVersion != v || ts.Rejected {
						return false
					}
				}
				return true
			})
			n, _ := h.node("default.gw")
			if n.Streams != 1 || n.Versions[resource.RouteType] != "rds-1" {
				t.Errorf("Nodes() = %+v, want 1 stream and the snapshot's versions", n)
			}
		})
	}
}

func TestSnapshotSetBeforeOrAfterConnect(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			c := p.dial(t, h, "default.gw")
			c.recv().quiet(t) // nothing to serve yet
			g := gen{1, 1, 1, 1}
			h.set(t, "default.gw", g)
			c.recv().sync(t, g)
		})
	}
}

func TestChangePushesExactlyTheChangedTypes(t *testing.T) {
	steps := []struct {
		name string
		to   gen
		want []string // type URLs pushed, in order
	}{
		{"routes", gen{1, 1, 1, 2}, []string{resource.RouteType}},
		{"endpoints", gen{1, 2, 1, 2}, []string{resource.EndpointType}},
		{"clusters and listeners", gen{2, 2, 2, 2}, []string{resource.ClusterType, resource.ListenerType}},
		// Clusters before endpoints before listeners before routes, as the protocol asks.
		{"everything, in dependency order", gen{3, 3, 3, 3}, []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			h.set(t, "default.gw", gen{1, 1, 1, 1})
			c := p.dial(t, h, "default.gw")
			c.recv().sync(t, gen{1, 1, 1, 1})
			for _, step := range steps {
				if !h.set(t, "default.gw", step.to) {
					t.Fatalf("%s: SetSnapshot reported no change", step.name)
				}
				versions := step.to.versions()
				for _, typ := range step.want {
					e := c.recv().next(t)
					if e.typeURL != typ || e.version != versions[typ] || e.nacked {
						t.Fatalf("%s: got %v, want %s at %s", step.name, e, shortType(typ), versions[typ])
					}
				}
				c.recv().quiet(t)
			}
		})
	}
}

func TestIdenticalSnapshotPushesNothing(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			g := gen{1, 1, 1, 1}
			h.set(t, "default.gw", g)
			c := p.dial(t, h, "default.gw")
			c.recv().sync(t, g)
			pushes := h.metric(t, "meshgate_xds_pushes_total", "type", "route")

			// A fresh but identical snapshot, as a rebuild that changed nothing produces.
			if h.set(t, "default.gw", g) {
				t.Error("SetSnapshot of identical versions reported a change")
			}
			c.recv().quiet(t)
			if got := h.metric(t, "meshgate_xds_pushes_total", "type", "route"); got != pushes {
				t.Errorf("route pushes went from %v to %v", pushes, got)
			}
			if got := h.metric(t, "meshgate_xds_snapshot_sets_total", "changed", "false"); got != 1 {
				t.Errorf("unchanged snapshot sets = %v, want 1", got)
			}
		})
	}
}

func TestChangeForOneNodePushesNothingToAnother(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			g := gen{1, 1, 1, 1}
			h.set(t, "default.gw-a", g)
			h.set(t, "default.gw-b", g)
			a := p.dial(t, h, "default.gw-a")
			b := p.dial(t, h, "default.gw-b")
			a.recv().sync(t, g)
			b.recv().sync(t, g)

			h.set(t, "default.gw-a", gen{2, 2, 2, 2})
			for range 4 {
				if e := a.recv().next(t); e.nacked {
					t.Fatalf("node a: %v", e)
				}
			}
			a.recv().quiet(t)
			b.recv().quiet(t)
		})
	}
}
