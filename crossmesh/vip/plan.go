package vip

import (
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// plan computes the document that assigns every key, from the stored one, without changing
// it. changed is false when nothing needs writing: expired quarantine entries alone do not
// justify a write, the next real change drops them.
func (a *Allocator) plan(old *document, keys []Key, now time.Time) (next *document, out map[Key]VIPs, changed bool, err error) {
	want := make(map[Key]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	p4, p6 := newPool(a.opts.CIDR4), newPool(a.opts.CIDR6)
	next = &document{}

	// Keep the assignments of keys still wanted; free the rest into quarantine. An address
	// outside the configured prefix (the CIDR changed) is dropped, as Kuma does.
	current := make(map[Key]entry, len(old.Entries))
	for _, e := range old.Entries {
		if !p4.usable(e.V4) {
			changed = true
			continue
		}
		if !want[e.Key] {
			next.Released = append(next.Released, released{entry: e, At: now})
			p4.reserve(e.V4)
			if e.V6.IsValid() {
				p6.reserve(e.V6)
			}
			changed = true
			continue
		}
		current[e.Key] = e
		p4.reserve(e.V4)
		if a.opts.IPv6 && p6.usable(e.V6) {
			p6.reserve(e.V6)
		}
	}
	// Quarantined addresses stay reserved until their period ends, whoever released them.
	quarantined := map[Key]int{} // key → index in old.Released
	kept := make([]bool, len(old.Released))
	for i, r := range old.Released {
		if !now.Before(r.At.Add(a.opts.Quarantine)) || !p4.usable(r.V4) {
			continue
		}
		kept[i] = true
		quarantined[r.Key] = i
		p4.reserve(r.V4)
		if r.V6.IsValid() {
			p6.reserve(r.V6)
		}
	}

	sorted := make([]Key, 0, len(want))
	for k := range want {
		sorted = append(sorted, k)
	}
	SortKeys(sorted)
	out = make(map[Key]VIPs, len(sorted))
	for _, k := range sorted {
		e, ok := current[k]
		if !ok {
			changed = true
			if i, back := quarantined[k]; back {
				// The same name returning inside its quarantine: giving it back its address
				// cannot confuse any cache, and avoids a needless address change.
				e = old.Released[i].entry
				kept[i] = false
			} else {
				e = entry{Key: k}
				if e.V4, ok = p4.take(); !ok {
					return nil, nil, false, fmt.Errorf("vip: no free IPv4 address in %s for %q (%d names, %d in quarantine): %w", a.opts.CIDR4, k, len(want), len(quarantined), ErrExhausted)
				}
			}
		}
		switch {
		case !a.opts.IPv6 && e.V6.IsValid():
			e.V6, changed = netip.Addr{}, true
		case a.opts.IPv6 && !p6.usable(e.V6):
			changed = true
			if e.V6, ok = p6.take(); !ok {
				return nil, nil, false, fmt.Errorf("vip: no free IPv6 address in %s for %q: %w", a.opts.CIDR6, k, ErrExhausted)
			}
		}
		next.Entries = append(next.Entries, e)
		out[k] = VIPs{V4: e.V4, V6: e.V6}
	}
	for i, r := range old.Released {
		if kept[i] {
			next.Released = append(next.Released, r)
		}
	}
	sortReleased(next.Released)
	return next, out, changed, nil
}

func sortReleased(rs []released) {
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].At.Equal(rs[j].At) {
			return rs[i].At.Before(rs[j].At)
		}
		return rs[i].Key.less(rs[j].Key)
	})
}
