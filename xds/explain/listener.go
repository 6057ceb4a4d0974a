package explain

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// conn is the connection as Envoy's listener filters (TLS inspector) describe it.
type conn struct {
	port      uint32
	destIP    netip.Addr // invalid when the listener binds a wildcard address
	tls       bool
	sni       string
	alpn      []string
	transport string // FilterChainMatch.transport_protocol: "tls" or "raw_buffer"
}

// findListener returns the TCP listener bound to port (its main or an additional address).
// Several listeners on the port (a sidecar's outbounds on their VIPs) need the destination
// address to tell them apart.
func findListener(ls []*listenerv3.Listener, port uint32) (*listenerv3.Listener, *corev3.SocketAddress, error) {
	seen := map[uint32]bool{}
	var l0 *listenerv3.Listener
	var sa0 *corev3.SocketAddress
	var onPort []string
	for _, l := range ls {
		for _, sa := range tcpAddresses(l) {
			if sa.GetPortValue() == port {
				if l0 == nil {
					l0, sa0 = l, sa
				}
				onPort = append(onPort, l.GetName())
				break
			}
			seen[sa.GetPortValue()] = true
		}
	}
	switch {
	case len(onPort) > 1:
		return nil, nil, fmt.Errorf("several listeners are on port %d (%s): give the destination address", port, strings.Join(onPort, ", "))
	case l0 != nil:
		return l0, sa0, nil
	}
	if len(seen) == 0 {
		return nil, nil, fmt.Errorf("no listener on port %d (the dataplane has no TCP listeners)", port)
	}
	ports := make([]int, 0, len(seen))
	for p := range seen {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return nil, nil, fmt.Errorf("no listener on port %d (listeners on ports: %s)", port, strings.Join(s, ", "))
}

// tcpAddresses are the TCP socket addresses a listener is bound to (main and additional).
func tcpAddresses(l *listenerv3.Listener) []*corev3.SocketAddress {
	var out []*corev3.SocketAddress
	addrs := []*corev3.Address{l.GetAddress()}
	for _, a := range l.GetAdditionalAddresses() {
		addrs = append(addrs, a.GetAddress())
	}
	for _, a := range addrs {
		if sa := a.GetSocketAddress(); sa != nil && sa.GetProtocol() != corev3.SocketAddress_UDP {
			out = append(out, sa)
		}
	}
	return out
}

// listenerAt is the listener that ends up with a connection to dest:port. A listener bound to
// that address and port takes it directly. When the dataplane redirects traffic with iptables
// (a listener with use_original_dst), the redirect listener receives it and Envoy hands it to
// the listener whose address and port equal the original destination, else to one on a
// wildcard address and that port; when there is none, the redirect listener's own chains
// (its passthrough default chain) serve it. Listeners with bind_to_port false are reachable
// only through such a hand-off.
func (e *explainer) listenerAt(dest netip.Addr, port uint32) (*listenerv3.Listener, *corev3.SocketAddress, error) {
	type found struct {
		l  *listenerv3.Listener
		sa *corev3.SocketAddress
	}
	var exact, wildcard []found
	var redirects []*listenerv3.Listener
	own := map[netip.Addr]bool{} // addresses of inbound listeners: the dataplane's own
	for _, l := range e.res.Listeners {
		if l == nil {
			continue
		}
		if l.GetUseOriginalDst().GetValue() {
			redirects = append(redirects, l)
		}
		for _, sa := range tcpAddresses(l) {
			ip, err := netip.ParseAddr(sa.GetAddress())
			if err != nil {
				continue
			}
			ip = ip.Unmap()
			if l.GetTrafficDirection() == corev3.TrafficDirection_INBOUND && !ip.IsUnspecified() {
				own[ip] = true
			}
			if sa.GetPortValue() != port {
				continue
			}
			switch {
			case ip == dest:
				exact = append(exact, found{l, sa})
			case ip.IsUnspecified() && ip.Is4() == dest.Is4():
				wildcard = append(wildcard, found{l, sa})
			}
		}
	}
	bound := func(f found) bool { return f.l.GetBindToPort() == nil || f.l.GetBindToPort().GetValue() }
	pick := func(fs []found, boundOnly bool) *found {
		for i := range fs {
			if !boundOnly || bound(fs[i]) {
				return &fs[i]
			}
		}
		return nil
	}
	if f := pick(exact, true); f != nil {
		return f.l, f.sa, nil
	}
	// iptables sends inbound traffic (to the dataplane's own addresses) and outbound traffic
	// to different redirect listeners; a dataplane may redirect only one direction. ip6tables
	// redirects IPv6 connections to the IPv6 twin (on `::`) when there is one.
	var r *listenerv3.Listener
	for _, l := range redirects {
		if (l.GetTrafficDirection() == corev3.TrafficDirection_INBOUND) != own[dest] {
			continue
		}
		if r == nil || (!sameFamily(r, dest) && sameFamily(l, dest)) {
			r = l
		}
	}
	if r == nil && len(redirects) > 0 && !own[dest] && redirects[0].GetTrafficDirection() == corev3.TrafficDirection_UNSPECIFIED {
		r = redirects[0]
	}
	if r != nil {
		where := fmt.Sprintf("%s:%d", dest, port)
		if f := pick(exact, false); f != nil {
			e.out.note("the connection to %s is redirected to %s, which hands it to the listener on its original destination", where, r.GetName())
			return f.l, f.sa, nil
		}
		if f := pick(wildcard, false); f != nil {
			e.out.note("the connection to %s is redirected to %s, which hands it to the listener on %s:%d", where, r.GetName(), f.sa.GetAddress(), port)
			return f.l, f.sa, nil
		}
		e.out.note("the connection to %s is redirected to %s; no listener is on its original destination", where, r.GetName())
		sas := tcpAddresses(r)
		if len(sas) == 0 {
			return nil, nil, fmt.Errorf("redirect listener %q has no TCP address", r.GetName())
		}
		return r, sas[0], nil
	}
	if f := pick(wildcard, true); f != nil {
		return f.l, f.sa, nil
	}
	if f := pick(exact, false); f != nil {
		return nil, nil, fmt.Errorf("listener %q on %s:%d does not bind its port and no listener redirects connections (use_original_dst) to it", f.l.GetName(), dest, port)
	}
	return nil, nil, fmt.Errorf("no listener on %s:%d", dest, port)
}

// sameFamily reports whether a listener's address is of dest's IP family.
func sameFamily(l *listenerv3.Listener, dest netip.Addr) bool {
	ip, err := netip.ParseAddr(l.GetAddress().GetSocketAddress().GetAddress())
	return err == nil && ip.Unmap().Is4() == dest.Is4()
}

// connection works out what the TLS inspector would report for the request's connection.
func (e *explainer) connection(l *listenerv3.Listener, addr *corev3.SocketAddress) conn {
	c := conn{port: e.req.Port, sni: e.req.SNI, alpn: e.req.ALPN}
	if ip, err := netip.ParseAddr(addr.GetAddress()); err == nil && !ip.IsUnspecified() {
		c.destIP = ip.Unmap()
	}
	if ip, err := netip.ParseAddr(e.req.Address); err == nil {
		// The original destination, which is what chains match on after a redirect.
		c.destIP = ip.Unmap()
	}
	switch {
	case e.req.Plaintext:
	case e.req.TLS || e.req.SNI != "":
		c.tls = true
	case allRequireTLS(l):
		c.tls = true
		e.out.note("TLS assumed: every filter chain of the listener requires it")
	}
	c.transport = "raw_buffer"
	if c.tls {
		c.transport = "tls"
		if c.sni == "" {
			c.sni = defaultSNI(e.req.Host)
		}
		if c.alpn == nil {
			c.alpn = []string{"h2", "http/1.1"}
		}
	} else {
		// Without TLS there is no ClientHello to carry ALPN.
		c.alpn = nil
	}
	e.out.Connection = &Connection{TLS: c.tls, SNI: c.sni, ALPN: c.alpn}
	return c
}

// defaultSNI is what clients put in SNI for a Host: the name without port; nothing for an IP
// literal (RFC 6066 forbids IP addresses in SNI).
func defaultSNI(host string) string {
	h := stripPort(host)
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	return asciiLower(h)
}

func allRequireTLS(l *listenerv3.Listener) bool {
	n := 0
	for _, fc := range envoyres.FilterChains(l) {
		if fc == nil {
			continue
		}
		if !requiresTLS(fc) {
			return false
		}
		n++
	}
	return n > 0
}

func requiresTLS(fc *listenerv3.FilterChain) bool {
	m := fc.GetFilterChainMatch()
	if m.GetTransportProtocol() == "tls" || len(m.GetServerNames()) > 0 {
		return true
	}
	ts := fc.GetTransportSocket()
	return ts.GetName() == "envoy.transport_sockets.tls" ||
		strings.HasSuffix(ts.GetTypedConfig().GetTypeUrl(), ".DownstreamTlsContext")
}

// stripPort removes a trailing :port the way Envoy's HeaderUtility::getPortStart finds it:
// the last ':' that is not inside an IPv6 literal.
func stripPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return host
	}
	if j := strings.LastIndexByte(host, ']'); j > i {
		return host
	}
	return host[:i]
}

// hostPort is the port in host, if it has one.
func hostPort(host string) (string, bool) {
	if s := stripPort(host); s != host {
		_, p, err := net.SplitHostPort(host)
		return p, err == nil
	}
	return "", false
}
