package servingtls

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	notAfter prometheus.Gauge
	updates  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "meshgate", "serving_tls"
	m := &metrics{
		notAfter: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "certificate_not_after_timestamp_seconds",
			Help: "NotAfter of the control plane's TLS serving certificate, in Unix seconds.",
		}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "certificate_updates_total",
			Help: "Renewals (generated mode) or reloads (file mode) of the serving certificate, by result (ok or error).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.notAfter, m.updates} {
		if err := reg.Register(c); err != nil {
			// Leave the registry as it was, so the caller can retry with another.
			for _, d := range done {
				reg.Unregister(d)
			}
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				return nil, fmt.Errorf("registering serving TLS metrics: already registered (one Source per registry): %w", err)
			}
			return nil, fmt.Errorf("registering serving TLS metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}
