package vip

import (
	"context"
	"net/netip"
)

// Lookup returns the stored VIPs of keys without writing anything: what a control plane that
// does not allocate (a replica that does not hold the lease) serves. missing are the keys the
// store holds no VIPs for yet, which the allocating replica will add; version is the stored
// document's version (0 when there is none), so a caller can tell when it has changed.
func (a *Allocator) Lookup(ctx context.Context, keys []Key) (out map[Key]VIPs, missing []Key, version int64, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	doc, version, err := a.load(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	p4, p6 := newPool(a.opts.CIDR4), newPool(a.opts.CIDR6)
	stored := make(map[Key]VIPs, len(doc.Entries))
	for _, e := range doc.Entries {
		if p4.usable(e.V4) { // outside the configured prefix: the allocator drops it
			stored[e.Key] = VIPs{V4: e.V4, V6: e.V6}
		}
	}
	out = make(map[Key]VIPs, len(keys))
	for _, k := range keys {
		v, ok := stored[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		switch {
		case !a.opts.IPv6:
			v.V6 = netip.Addr{}
		case !p6.usable(v.V6):
			// Its IPv4 address serves meanwhile; the allocator adds the IPv6 one.
			v.V6 = netip.Addr{}
			missing = append(missing, k)
		}
		out[k] = v
	}
	return out, missing, version, nil
}
