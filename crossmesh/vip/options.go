package vip

import (
	"fmt"
	"net/netip"
	"time"
)

var (
	// DefaultCIDR4 is Kuma's dnsServer.CIDR: reserved space no real host uses.
	DefaultCIDR4 = netip.MustParsePrefix("240.0.0.0/4")
	// DefaultCIDR6 is a ULA prefix, so IPv6 VIPs cannot collide with routable addresses.
	DefaultCIDR6 = netip.MustParsePrefix("fd00:fd00::/64")
)

// DefaultQuarantine is twice the default DNS TTL (30 s): a resolver that cached a freed VIP
// has dropped it before the VIP can answer for another name.
const DefaultQuarantine = 60 * time.Second

// StateKey is the store state document holding every allocation.
const StateKey = "crossmesh/vips"

// Options configure an Allocator. Zero values take the defaults.
type Options struct {
	CIDR4 netip.Prefix
	CIDR6 netip.Prefix
	// IPv6 allocates a V6 address from CIDR6 for every key as well.
	IPv6       bool
	Quarantine time.Duration
	Now        func() time.Time
	// Attempts bounds the read-modify-write retries when another writer wins (default 10).
	Attempts int
}

func (o Options) withDefaults() (Options, error) {
	if !o.CIDR4.IsValid() {
		o.CIDR4 = DefaultCIDR4
	}
	if !o.CIDR6.IsValid() {
		o.CIDR6 = DefaultCIDR6
	}
	o.CIDR4, o.CIDR6 = o.CIDR4.Masked(), o.CIDR6.Masked()
	if !o.CIDR4.Addr().Is4() {
		return o, fmt.Errorf("vip: CIDR4 %s is not an IPv4 prefix", o.CIDR4)
	}
	if o.CIDR4.Bits() > 30 {
		return o, fmt.Errorf("vip: CIDR4 %s is too small: it needs at least one address besides the network and broadcast addresses", o.CIDR4)
	}
	if !o.CIDR6.Addr().Is6() || o.CIDR6.Addr().Is4In6() {
		return o, fmt.Errorf("vip: CIDR6 %s is not an IPv6 prefix", o.CIDR6)
	}
	if o.CIDR6.Bits() > 127 {
		return o, fmt.Errorf("vip: CIDR6 %s is too small", o.CIDR6)
	}
	if o.Quarantine == 0 {
		o.Quarantine = DefaultQuarantine
	}
	if o.Quarantine < 0 {
		return o, fmt.Errorf("vip: quarantine %s is negative", o.Quarantine)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Attempts <= 0 {
		o.Attempts = 10
	}
	return o, nil
}
