package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshgate/meshgate/store"
)

// singletonLease is the lease under which work that must happen once among replicas runs:
// VIP allocation, pruning expired token revocations. Other replicas serve from what the
// holder wrote.
const singletonLease = "singleton"

// DefaultLeaseTTL is how long a replica holds the singleton lease without renewing it: a
// crashed or paused leader's work waits that long for another replica. It is renewed every
// third of it, so a leader survives two lost renewals.
const DefaultLeaseTTL = 15 * time.Second

// leaseRunner holds the singleton lease when it can: it takes it when free, renews it while
// held, and gives it up on shutdown. Whether this replica leads is Leader; the store checks
// the fence again in every fenced write, so a replica that believes it leads after losing
// the lease (paused, partitioned) has its writes refused rather than trusted.
type leaseRunner struct {
	leaser store.Leaser
	// store is what singleton work writes through: state writes fenced by this lease.
	store *store.Fenced
	// shared: other replicas may use the store (it is not the embedded one).
	shared bool
	id     string
	ttl    time.Duration
	log    *slog.Logger
	// gained is signalled (without blocking) each time this replica becomes the leader, so
	// work a follower left to the leader is done at once.
	gained chan struct{}

	held     prometheus.Gauge
	fence    prometheus.Gauge
	fenced   prometheus.Counter
	replicas prometheus.Gauge
	// onReplicas is told the number of live replicas when it changes (the re-issue rate is
	// shared among them); nil: nobody listens.
	onReplicas func(int)

	mu   sync.Mutex
	last store.Lease
	// leads is whether the last acquisition gave this replica the lease; until is when that
	// stops being safe to assume by this process's monotonic clock: the acquisition's start
	// plus the TTL, which is no later than the store's own expiry.
	leads bool
	until time.Time
	err   error
	// reported is whether the last step found this replica leading (and said so).
	reported bool
	// self is this replica's own lease (replicaLeasePrefix + id), which counts it as alive;
	// live is the count of such leases last seen.
	self store.Lease
	live int
}

// replicaLeasePrefix names each replica's own lease: one per live replica, so that the
// replicas can be counted.
const replicaLeasePrefix = "replica/"

// newReplicaID names this process among replicas: host name, pid and a random suffix (a
// restarted process on the same host with a recycled pid is still another holder).
func newReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

func newLeaseRunner(l store.Leaser, ttl time.Duration, reg prometheus.Registerer, log *slog.Logger) (*leaseRunner, error) {
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	if ttl < 300*time.Millisecond {
		return nil, fmt.Errorf("--lease-ttl %s: must be at least 300ms (default %s)", ttl, DefaultLeaseTTL)
	}
	r := &leaseRunner{
		leaser: l, id: newReplicaID(), ttl: ttl, log: log, gained: make(chan struct{}, 1),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshgate_lease_held", Help: "1 while this replica holds the lease for work done once among replicas.",
			ConstLabels: prometheus.Labels{"lease": singletonLease},
		}),
		fence: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshgate_lease_fence", Help: "The lease's fence token as this replica last saw it (it moves on every change of holder).",
			ConstLabels: prometheus.Labels{"lease": singletonLease},
		}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshgate_lease_fenced_writes_total", Help: "Writes of singleton work the store refused because this replica no longer held the lease.",
			ConstLabels: prometheus.Labels{"lease": singletonLease},
		}),
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshgate_replicas", Help: "Replicas alive on this store (each holding its own lease), as this replica last counted them.",
		}),
	}
	if err := registerAll(reg, r.held, r.fence, r.fenced, r.replicas); err != nil {
		return nil, err
	}
	log.Info("replica identity", "replica", r.id, "lease", singletonLease, "leaseTTL", ttl)
	return r, nil
}

func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering lease metrics: %w", err)
		}
	}
	return nil
}

// Leader returns the fence to write singleton work under, and whether this replica leads.
func (r *leaseRunner) Leader() (store.Fence, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.leads || !time.Now().Before(r.until) {
		return store.Fence{}, false
	}
	return store.FenceOf(r.last), true
}

// IsLeader is Leader without the fence.
func (r *leaseRunner) IsLeader() bool {
	_, ok := r.Leader()
	return ok
}

// refusedWrite records a fenced write the store refused (the lease was lost in between).
func (r *leaseRunner) refusedWrite(what string, err error) {
	r.fenced.Inc()
	r.log.Warn("singleton write refused: this replica no longer holds the lease", "replica", r.id, "work", what, "error", err)
}

// step acquires or renews the lease once.
func (r *leaseRunner) step(ctx context.Context) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.ttl/3)
	defer cancel()
	l, err := r.leaser.AcquireLease(ctx, store.LeaseRequest{Name: singletonLease, Holder: r.id, TTL: r.ttl})
	r.mu.Lock()
	was := r.reported
	prev := r.last
	r.err = err
	if err == nil {
		r.last = l
		r.leads = l.Held(r.id)
		if r.leads {
			r.until = start.Add(r.ttl)
		}
	}
	// A failed renewal keeps the lease until its own deadline: the store may come back in time.
	now := r.leads && time.Now().Before(r.until)
	r.reported = now
	r.mu.Unlock()

	r.fence.Set(float64(r.last.Fence))
	switch {
	case now && !was:
		r.held.Set(1)
		r.log.Info("lease acquired: this replica does the work done once", "lease", singletonLease, "replica", r.id, "fence", l.Fence)
		select {
		case r.gained <- struct{}{}:
		default:
		}
	case !now && was:
		r.held.Set(0)
		r.log.Warn("lease lost: another replica does the work done once", "lease", singletonLease, "replica", r.id,
			"holder", r.last.Holder, "fence", r.last.Fence, "error", err)
	case err != nil:
		r.log.Warn("renewing the lease failed", "lease", singletonLease, "replica", r.id, "error", err)
	case !now && prev.Holder != l.Holder:
		r.log.Info("following the lease holder", "lease", singletonLease, "replica", r.id, "holder", l.Holder, "fence", l.Fence)
	}
	r.countReplicas(ctx)
}

// countReplicas renews this replica's own lease and counts the live ones; a change is
// reported to onReplicas. A failure keeps the last count: it is a pacing hint, not a fence.
func (r *leaseRunner) countReplicas(ctx context.Context) {
	self, err := r.leaser.AcquireLease(ctx, store.LeaseRequest{Name: replicaLeasePrefix + r.id, Holder: r.id, TTL: r.ttl})
	if err != nil {
		return
	}
	n, err := r.leaser.CountLeases(ctx, replicaLeasePrefix)
	if err != nil {
		return
	}
	n = max(n, 1) // this one at least, even if its own lease just lapsed
	r.mu.Lock()
	r.self = self
	changed := n != r.live
	r.live = n
	r.mu.Unlock()
	r.replicas.Set(float64(n))
	if changed {
		r.log.Info("replicas alive on this store", "replicas", n, "replica", r.id)
		if r.onReplicas != nil {
			r.onReplicas(n)
		}
	}
}

// run renews the lease every third of its TTL until ctx ends, then releases it so another
// replica need not wait for it to expire.
func (r *leaseRunner) run(ctx context.Context) error {
	tick := time.NewTicker(r.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.release()
			return nil
		case <-tick.C:
			r.step(ctx)
		}
	}
}

func (r *leaseRunner) release() {
	f, ok := r.Leader()
	r.mu.Lock()
	r.leads, r.reported = false, false
	self := r.self
	r.mu.Unlock()
	r.held.Set(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if self.Holder == r.id {
		// The others count one replica fewer at their next renewal.
		_ = r.leaser.ReleaseLease(ctx, store.FenceOf(self))
	}
	if !ok {
		return
	}
	if err := r.leaser.ReleaseLease(ctx, f); err != nil {
		r.log.Warn("releasing the lease", "lease", singletonLease, "error", err)
		return
	}
	r.log.Info("lease released", "lease", singletonLease, "replica", r.id, "fence", f.Token)
}
