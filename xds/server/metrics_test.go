package server

import (
	"testing"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	h.set(t, "default.gw", gen{1, 1, 1, 1})
	c := dialSotw(t, h, "default.gw")
	c.recv().sync(t, gen{1, 1, 1, 1})
	c.rejectWith(rejectVersion("type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "rds-2"))
	h.set(t, "default.gw", gen{1, 1, 1, 2})
	c.recv().next(t)
	h.set(t, "default.gw", gen{1, 1, 1, 3})
	c.recv().next(t)
	h.set(t, "default.gw", gen{1, 1, 1, 3})

	eventually(t, "the last ACK to be counted", func() bool {
		return h.metric(t, "meshgate_xds_acks_total", "type", "route") == 2
	})
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"meshgate_xds_pushes_total", []string{"type", "route"}, 3},
		{"meshgate_xds_pushes_total", []string{"type", "listener"}, 1},
		{"meshgate_xds_pushes_total", []string{"type", "cluster"}, 1},
		{"meshgate_xds_pushes_total", []string{"type", "endpoint"}, 1},
		{"meshgate_xds_acks_total", []string{"type", "route"}, 2},
		{"meshgate_xds_acks_total", []string{"type", "listener"}, 1},
		{"meshgate_xds_nacks_total", []string{"type", "route"}, 1},
		{"meshgate_xds_ack_duration_seconds", []string{"type", "route"}, 2},
		{"meshgate_xds_ack_duration_seconds", []string{"type", "cluster"}, 1},
		{"meshgate_xds_streams", []string{"protocol", "sotw"}, 1},
		{"meshgate_xds_streams", []string{"protocol", "delta"}, 0},
		{"meshgate_xds_snapshot_sets_total", []string{"changed", "true"}, 3},
		{"meshgate_xds_snapshot_sets_total", []string{"changed", "false"}, 1},
	}
	for _, w := range want {
		if got := h.metric(t, w.name, w.labels...); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}
