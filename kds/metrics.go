package kds

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	connected *prometheus.GaugeVec
	sent      *prometheus.CounterVec
	received  *prometheus.CounterVec
	nacks     *prometheus.CounterVec
}

// newMetrics makes the meshgate_kds_* metrics; role is "global" or "zone".
func newMetrics(reg prometheus.Registerer, role string) (*metrics, error) {
	c := prometheus.Labels{"role": role}
	m := &metrics{
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "meshgate_kds_connected_zones", ConstLabels: c,
			Help: "Zones with a KDS stream open (on a zone: 1 while connected to global)."}, []string{"zone"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "meshgate_kds_resources_sent_total", ConstLabels: c,
			Help: "Resources (and removals) sent over KDS."}, []string{"zone"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "meshgate_kds_resources_received_total", ConstLabels: c,
			Help: "Resource changes applied from KDS."}, []string{"zone"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "meshgate_kds_nacks_total", ConstLabels: c,
			Help: "KDS responses refused (NACKed), by the side that refused them."}, []string{"zone", "by"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, col := range []prometheus.Collector{m.connected, m.sent, m.received, m.nacks} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("registering KDS metrics: %w", err)
		}
	}
	return m, nil
}
