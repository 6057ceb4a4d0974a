package vip

import (
	"errors"
	"net/netip"
)

// ErrExhausted: the prefix has no free address left.
var ErrExhausted = errors.New("address range exhausted")

// pool hands out the lowest free addresses of a prefix, in increasing order. A single cursor
// makes allocating n new keys cost O(used + n) instead of a scan per key.
type pool struct {
	prefix netip.Prefix
	used   map[netip.Addr]bool
	next   netip.Addr
	// broadcast is excluded for IPv4: 255.255.255.255, the last address of the default
	// 240.0.0.0/4, is the limited broadcast address and never reaches a proxy's listener.
	broadcast netip.Addr
}

func newPool(prefix netip.Prefix) *pool {
	p := &pool{prefix: prefix, used: map[netip.Addr]bool{}}
	// The network address is skipped: tools and people read it as "the subnet", not a host.
	p.next = prefix.Addr().Next()
	if prefix.Addr().Is4() {
		b := prefix.Addr().As4()
		host := uint32(1)<<(32-prefix.Bits()) - 1
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
		p.broadcast = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return p
}

// usable reports whether a may be handed out by this pool at all.
func (p *pool) usable(a netip.Addr) bool {
	return a.IsValid() && p.prefix.Contains(a) && a != p.prefix.Addr() && a != p.broadcast
}

func (p *pool) reserve(a netip.Addr) { p.used[a] = true }

func (p *pool) take() (netip.Addr, bool) {
	for p.next.IsValid() && p.prefix.Contains(p.next) && p.next != p.broadcast {
		a := p.next
		p.next = a.Next()
		if !p.used[a] {
			p.used[a] = true
			return a, true
		}
	}
	return netip.Addr{}, false
}
