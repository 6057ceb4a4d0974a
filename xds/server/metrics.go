package server

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	pushes  *prometheus.CounterVec
	acks    *prometheus.CounterVec
	nacks   *prometheus.CounterVec
	ackWait *prometheus.HistogramVec
	streams *prometheus.GaugeVec
	sets    *prometheus.CounterVec
	// anonymousEnded counts streams ended for not being admitted in time.
	anonymousEnded prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "meshgate", "xds"
	m := &metrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "pushes_total",
			Help: "xDS responses sent, by resource type.",
		}, []string{"type"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "acks_total",
			Help: "xDS responses accepted by the client, by resource type.",
		}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "nacks_total",
			Help: "xDS responses rejected by the client, by resource type.",
		}, []string{"type"}),
		ackWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "ack_duration_seconds",
			Help:    "Time from sending an xDS response to receiving its ACK, by resource type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"type"}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "streams",
			Help: "Open xDS streams, by protocol (sotw or delta).",
		}, []string{"protocol"}),
		sets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "snapshot_sets_total",
			Help: "SetSnapshot calls, by whether any type's version changed.",
		}, []string{"changed"}),
		anonymousEnded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "streams_unadmitted_ended_total",
			Help: "Streams ended because they sent no admitted first request within the first-request timeout.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.pushes, m.acks, m.nacks, m.ackWait, m.streams, m.sets, m.anonymousEnded} {
		if err := reg.Register(c); err != nil {
			// Leave the registry as it was, so the caller can retry with another.
			for _, d := range done {
				reg.Unregister(d)
			}
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				return nil, fmt.Errorf("registering xDS metrics: already registered (one Server per registry): %w", err)
			}
			return nil, fmt.Errorf("registering xDS metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}
