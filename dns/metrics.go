package dns

import (
	"errors"
	"fmt"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queries *prometheus.CounterVec
	forward *prometheus.HistogramVec
	// refused counts queries for names outside the zone from clients that may
	// not use forwarding: how much open-resolver traffic is being turned away.
	refused *prometheus.CounterVec
	// Counters for the common rcodes resolved once, so the hot path does not
	// hash label values per query.
	common [2][mdns.RcodeRefused + 1]prometheus.Counter
}

var transports = [2]string{"udp", "tcp"}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "meshgate", Subsystem: "dns", Name: "queries_total",
			Help: "DNS queries answered, by transport and response code.",
		}, []string{"transport", "rcode"}),
		forward: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "meshgate", Subsystem: "dns", Name: "forward_duration_seconds",
			Help:    "Time to get an answer from one upstream resolver, by transport and result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"transport", "result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "meshgate", Subsystem: "dns", Name: "forward_refused_total",
			Help: "Queries for names outside the zone refused because the client is not in the forward allow list, by transport.",
		}, []string{"transport"}),
	}
	for t, tn := range transports {
		for rc := range m.common[t] {
			m.common[t][rc] = m.queries.WithLabelValues(tn, rcodeName(rc))
		}
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.queries, m.forward, m.refused} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("dns metrics: already registered (one Server per registerer): %w", err)
			}
			return nil, fmt.Errorf("dns metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) query(tcp bool, rcode int) {
	t := 0
	if tcp {
		t = 1
	}
	if rcode >= 0 && rcode < len(m.common[t]) {
		m.common[t][rcode].Inc()
		return
	}
	m.queries.WithLabelValues(transports[t], rcodeName(rcode)).Inc()
}

func (m *metrics) forwarded(tcp bool, ok bool, d time.Duration) {
	t, result := "udp", "ok"
	if tcp {
		t = "tcp"
	}
	if !ok {
		result = "error"
	}
	m.forward.WithLabelValues(t, result).Observe(d.Seconds())
}

func (m *metrics) forwardRefused(tcp bool) {
	t := 0
	if tcp {
		t = 1
	}
	m.refused.WithLabelValues(transports[t]).Inc()
}

func rcodeName(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}
