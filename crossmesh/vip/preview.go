package vip

import "net/netip"

// Preview assigns addresses from cidr (DefaultCIDR4 when invalid) to keys in key order, as a
// fresh store would: what `meshgate render` shows offline. A running control plane uses an
// Allocator, whose addresses stay put as names come and go.
func Preview(keys []Key, cidr netip.Prefix) map[Key]VIPs {
	if !cidr.IsValid() {
		cidr = DefaultCIDR4
	}
	sorted := append([]Key(nil), keys...)
	SortKeys(sorted)
	p := newPool(cidr)
	out := make(map[Key]VIPs, len(sorted))
	for _, k := range sorted {
		if _, done := out[k]; done {
			continue
		}
		a, ok := p.take()
		if !ok {
			break
		}
		out[k] = VIPs{V4: a}
	}
	return out
}
