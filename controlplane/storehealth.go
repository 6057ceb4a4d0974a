package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshgate/meshgate/store"
)

// How often the store is probed, and how long a probe may take before the store counts as
// unreachable. A probe is one round trip (PostgreSQL: an empty query on a pooled connection).
const (
	storeCheckEvery   = 2 * time.Second
	storeCheckTimeout = time.Second
)

// storeHealthProbeKey is read (and never written) by the probe of stores without a Ping.
const storeHealthProbeKey = "meshgate/health-probe"

// pinger is a store that can check its connection cheaply (PostgreSQL).
type pinger interface {
	Ping(ctx context.Context) error
}

// storeHealth probes the store periodically. While it does not answer, the replica is not
// ready (/ready is 503 and names the store and the error) and meshgate_store_up is 0; it keeps
// serving the configuration it has, and becomes ready again by itself when the store answers.
type storeHealth struct {
	name   string
	probe  func(ctx context.Context) error
	every  time.Duration
	log    *slog.Logger
	gauge  prometheus.Gauge
	mu     sync.Mutex
	err    error // the last probe's failure; nil while the store answers
	downAt time.Time
}

func newStoreHealth(s store.Store, storeURL, dataDir string, reg prometheus.Registerer, log *slog.Logger) (*storeHealth, error) {
	h := &storeHealth{name: storeName(storeURL, dataDir), every: storeCheckEvery, log: log, probe: probeOf(s),
		gauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshgate_store_up",
			Help: "1 while the store answers the periodic health check, 0 while it does not (the replica is then not ready).",
		})}
	if err := reg.Register(h.gauge); err != nil {
		return nil, fmt.Errorf("registering the store health metric: %w", err)
	}
	h.gauge.Set(1) // it answered when it was opened
	return h, nil
}

// probeOf pings a store that can; any other store answers a read of a key nobody writes.
func probeOf(s store.Store) func(ctx context.Context) error {
	if p, ok := s.(pinger); ok {
		return p.Ping
	}
	return func(ctx context.Context) error {
		_, _, err := s.GetState(ctx, storeHealthProbeKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
}

// run probes every h.every until ctx ends. It never fails: an unreachable store is a state
// to report, not a reason to stop.
func (h *storeHealth) run(ctx context.Context) error {
	tick := time.NewTicker(h.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, storeCheckTimeout)
		err := h.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		h.set(err)
	}
}

// set records a probe's result, logging only the transitions.
func (h *storeHealth) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil && h.err == nil:
		h.downAt = time.Now()
		h.gauge.Set(0)
		h.log.Error("the store is unreachable; serving the last configuration, not ready, refusing writes until it answers",
			"store", h.name, "error", err)
	case err == nil && h.err != nil:
		h.gauge.Set(1)
		h.log.Info("the store answers again; ready", "store", h.name, "down_for", time.Since(h.downAt).Round(time.Millisecond))
	}
	h.err = err
}

// status is nil while the store answers, else why the replica is not ready.
func (h *storeHealth) status() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return fmt.Errorf("the store %s is unreachable (since %s): %w", h.name, h.downAt.UTC().Format(time.RFC3339), h.err)
}

// storeName says which store this is without the password a URL may carry.
func storeName(storeURL, dataDir string) string {
	if storeURL == "" || storeURL == "sqlite://" {
		return "sqlite:" + filepath.Join(dataDir, "meshgate.db")
	}
	u, err := url.Parse(storeURL)
	if err != nil {
		return "(unparsable store URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
