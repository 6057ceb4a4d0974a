package explain

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
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
func findListener(ls []*listenerv3.Listener, port uint32) (*listenerv3.Listener, *corev3.SocketAddress, error) {
	seen := map[uint32]bool{}
	for _, l := range ls {
		addrs := []*corev3.Address{l.GetAddress()}
		for _, a := range l.GetAdditionalAddresses() {
			addrs = append(addrs, a.GetAddress())
		}
		for _, a := range addrs {
			sa := a.GetSocketAddress()
			if sa == nil || sa.GetProtocol() == corev3.SocketAddress_UDP {
				continue
			}
			if sa.GetPortValue() == port {
				return l, sa, nil
			}
			seen[sa.GetPortValue()] = true
		}
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

// connection works out what the TLS inspector would report for the request's connection.
func (e *explainer) connection(l *listenerv3.Listener, addr *corev3.SocketAddress) conn {
	c := conn{port: e.req.Port, sni: e.req.SNI, alpn: e.req.ALPN}
	if ip, err := netip.ParseAddr(addr.GetAddress()); err == nil && !ip.IsUnspecified() {
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
	chains := l.GetFilterChains()
	if d := l.GetDefaultFilterChain(); d != nil {
		chains = append(append([]*listenerv3.FilterChain(nil), chains...), d)
	}
	n := 0
	for _, fc := range chains {
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
