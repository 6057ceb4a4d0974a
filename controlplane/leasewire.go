package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// singletonStore creates the lease runner and returns the store singleton work writes
// through: reads as cp.store, state writes fenced by the lease. raw is the store as opened:
// both stores hold leases.
func (cp *ControlPlane) singletonStore(raw store.Store) (*store.Fenced, error) {
	leaser, ok := raw.(store.Leaser)
	if !ok {
		return nil, fmt.Errorf("store %T cannot hold leases", raw)
	}
	var err error
	if cp.lease, err = newLeaseRunner(leaser, cp.cfg.LeaseTTL, cp.registry, cp.log); err != nil {
		return nil, err
	}
	cp.lease.store = store.NewFenced(cp.store, leaser, cp.lease.Leader)
	// Any store but the embedded one (one file, one process) may have other replicas on it.
	_, embedded := raw.(*sqlite.Store)
	cp.lease.shared = !embedded
	return cp.lease.store, nil
}

// setUpLease puts the rest of the singleton work under the lease: VIPs are allocated by the
// holder only, with writes fenced, and followers serve what it stored; the re-issue rate is
// divided among the live replicas, and on a shared store retiring roots are kept for every
// replica's leaves. Call it once New has built the DNS and the reconciler (and
// singletonStore the lease runner).
func (cp *ControlPlane) setUpLease() error {
	if err := cp.dns.useLease(cp.lease, cp.lease.store); err != nil {
		return err
	}
	cp.rec.store = pokedStore{Store: cp.rec.store, pokes: cp.dns.pokes}
	// Re-issue pacing after a CA switch is a budget of the cluster: shared among the replicas.
	cp.lease.onReplicas = cp.rec.ids.ShareRate
	if cp.lease.shared {
		// A retiring root stays until every replica's leaves under it have expired.
		cp.rec.ids.ShareStore()
	}
	return nil
}

// startLease takes the lease before anything is built (a standalone process then allocates
// in its first build, as it always did), and spawns its renewal and the follower's watch of
// the leader's VIPs.
func (cp *ControlPlane) startLease(ctx context.Context, spawn func(string, func() error)) {
	cp.lease.step(ctx)
	spawn("lease", func() error { return cp.lease.run(ctx) })
	spawn("VIP follower", func() error { cp.dns.followVIPs(ctx, cp.lease.gained, vipFollowPoll); return nil })
}

// vipFollowPoll is how often a follower waiting for VIPs looks at the stored allocation.
const vipFollowPoll = 250 * time.Millisecond

// syncVIPs returns every key's VIPs: allocated here when this replica holds the lease, read
// from the store otherwise. A follower serves the keys the leader has allocated and waits for
// the others (followVIPs rebuilds when they appear).
func (d *meshDNS) syncVIPs(ctx context.Context, keys []vip.Key) (map[vip.Key]vip.VIPs, error) {
	if d.lease == nil || d.lease.IsLeader() {
		vips, err := d.vips.Sync(ctx, keys)
		if !errors.Is(err, store.ErrFenced) {
			d.waiting.Store(false)
			return vips, err
		}
		d.lease.refusedWrite("VIP allocation", err)
	}
	vips, missing, version, err := d.vips.Lookup(ctx, keys)
	if err != nil {
		return nil, err
	}
	d.seenVersion.Store(version)
	d.waiting.Store(len(missing) > 0)
	if len(missing) > 0 {
		d.log.Info("VIPs not allocated yet; the lease holder allocates them", "names", len(missing), "first", missing[0].Name)
	}
	return vips, nil
}

// followVIPs asks for a rebuild when this replica becomes the leader (it allocates what it
// left to the previous one), and, while a follower waits for VIPs, when the stored allocation
// changes. The store does not announce state writes, so it looks.
func (d *meshDNS) followVIPs(ctx context.Context, gained <-chan struct{}, poll time.Duration) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-gained:
			d.poke()
		case <-tick.C:
			if !d.waiting.Load() {
				continue
			}
			_, version, err := d.reads.GetState(ctx, vip.StateKey)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				continue // the next tick asks again
			}
			if version != d.seenVersion.Load() {
				d.poke()
			}
		}
	}
}

func (d *meshDNS) poke() {
	select {
	case d.pokes <- struct{}{}:
	default: // one is pending
	}
}

// pokedStore is the store the reconciler watches: its changes, and the rebuilds singleton
// work asks for (the leader's VIPs landed; this replica took the lease over).
type pokedStore struct {
	store.Store
	pokes <-chan struct{}
}

// Watch implements store.Store.
func (p pokedStore) Watch(ctx context.Context) (<-chan int64, error) {
	in, err := p.Store.Watch(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan int64, 1)
	go func() {
		defer close(out)
		var last int64
		send := func(rev int64) {
			select {
			case out <- rev:
			default:
				// A change is pending already: the rebuild it brings reads the store afresh.
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case rev, ok := <-in:
				if !ok {
					return
				}
				last = rev
				send(rev)
			case <-p.pokes:
				send(last)
			}
		}
	}()
	return out, nil
}

// vipLease is what meshDNS keeps to allocate VIPs under the lease (embedded in meshDNS).
type vipLease struct {
	// lease is nil until useLease: every Sync allocates, as a lone process does.
	lease *leaseRunner
	// reads is the store the follower polls.
	reads store.Store
	pokes chan struct{}
	// waiting: the last build served without some VIPs, left to the leader; seenVersion is the
	// stored allocation's version it read.
	waiting     atomic.Bool
	seenVersion atomic.Int64
}

// useLease replaces the allocator with one whose writes are fenced by l's lease.
func (d *meshDNS) useLease(l *leaseRunner, fenced *store.Fenced) error {
	cidr, err := netip.ParsePrefix(d.cfg.VIPCIDR)
	if err != nil {
		return fmt.Errorf("VIP CIDR %q: %w", d.cfg.VIPCIDR, err)
	}
	a, err := vip.NewAllocator(fenced, vip.Options{CIDR4: cidr, IPv6: d.cfg.IPv6, Quarantine: 2 * d.cfg.TTL})
	if err != nil {
		return err
	}
	d.vips, d.lease, d.reads, d.pokes = a, l, fenced, make(chan struct{}, 1)
	return nil
}
