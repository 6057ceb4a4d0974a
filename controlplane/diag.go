package controlplane

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshgate/meshgate/api/rest"
)

type metrics struct {
	rebuild prometheus.Histogram
	renders *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{rebuild: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "meshgate_xds_generation_seconds",
		Help:    "Time to bring the connected dataplanes' configuration up to date after a change.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}), renders: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshgate_xds_renders_total",
		Help: "Dataplane configurations rendered, in full or shared with another replica of the same gateway.",
	}, []string{"how"})}
	reg.MustRegister(m.rebuild, m.renders)
	return m
}

func (m *metrics) observeRebuild(d time.Duration) { m.rebuild.Observe(d.Seconds()) }

func (m *metrics) observeRender(shared bool) {
	how := "full"
	if shared {
		how = "shared"
	}
	m.renders.WithLabelValues(how).Inc()
}

// diagHandler serves /metrics, /leader (leader.go), /healthz (the process is alive) and /ready (the first
// configuration is published, so dataplanes connecting now get it, and the store answers).
func (cp *ControlPlane) diagHandler() http.Handler {
	mux := http.NewServeMux()
	var metricsHandler http.Handler = promhttp.HandlerFor(cp.registry, promhttp.HandlerOpts{})
	if cp.exposure.metricsToken {
		// Beyond loopback, metrics (dataplane names, meshes, error rates) are for the operator.
		metricsHandler = rest.RequireAdmin(cp.cfg.AdminToken, metricsHandler)
	}
	mux.Handle("GET /metrics", metricsHandler)
	cp.registerLeader(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-cp.ready:
		default:
			http.Error(w, "not ready: first configuration not built yet", http.StatusServiceUnavailable)
			return
		}
		if err := cp.health.status(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}
