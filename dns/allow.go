package dns

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	mdns "github.com/miekg/dns"
)

// DefaultForwardAllow is who may have names forwarded when Options.ForwardAllow
// is nil: this host only. Anyone else who can reach the port would otherwise
// have an open resolver to amplify traffic with (a 55-byte query can draw an
// answer of several kilobytes).
var DefaultForwardAllow = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// allowList decides who may use forwarding: fixed prefixes from the options
// plus single addresses the caller swaps in as it learns them (dataplanes).
type allowList struct {
	prefixes []netip.Prefix
	addrs    atomic.Pointer[map[netip.Addr]struct{}]
}

// forwardPrefixes checks and normalises the configured prefixes.
func forwardPrefixes(ps []netip.Prefix) ([]netip.Prefix, error) {
	if ps == nil {
		ps = DefaultForwardAllow
	}
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if !p.IsValid() {
			return nil, fmt.Errorf("forward allow list: invalid prefix %v", p)
		}
		// Clients are matched unmapped, so an IPv4-mapped prefix is the IPv4 one.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// allows reports whether client may have names outside the origin forwarded.
// It runs on every such query: a handful of prefixes and one map lookup.
func (a *allowList) allows(client netip.Addr) bool {
	client = client.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(client) {
			return true
		}
	}
	if m := a.addrs.Load(); m != nil {
		_, ok := (*m)[client]
		return ok
	}
	return false
}

// SetForwardAllowed replaces the single addresses that may use forwarding in
// addition to Options.ForwardAllow (the caller's known clients, e.g. its
// dataplanes). Like SetZone it swaps atomically and is safe at any time.
func (s *Server) SetForwardAllowed(addrs []netip.Addr) {
	m := make(map[netip.Addr]struct{}, len(addrs))
	for _, a := range addrs {
		if a.IsValid() {
			m[a.Unmap()] = struct{}{}
		}
	}
	s.allow.addrs.Store(&m)
}

// recursionFor is the RA bit for this client: forwarding is configured and the
// client may use it.
func (s *Server) recursionFor(w mdns.ResponseWriter) bool {
	return s.forwarding() && s.allow.allows(remoteAddr(w))
}

func remoteAddr(w mdns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr()
	case *net.TCPAddr:
		return a.AddrPort().Addr()
	}
	return netip.Addr{}
}
