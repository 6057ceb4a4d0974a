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

// selectFilterChain applies Envoy's FilterChainMatch precedence: destination port, destination
// IP, server name, transport protocol, application protocols, then the source criteria. Each
// step keeps only the most specific chains that match and never falls back to a less specific
// step's losers; when nothing is left the listener's default_filter_chain serves, if any.
func (e *explainer) selectFilterChain(l *listenerv3.Listener, c conn) (*listenerv3.FilterChain, string) {
	var cands []*listenerv3.FilterChain
	for _, fc := range l.GetFilterChains() {
		if fc != nil {
			cands = append(cands, fc)
		}
	}
	steps := []struct {
		what string
		keep func([]*listenerv3.FilterChain) []*listenerv3.FilterChain
	}{
		{fmt.Sprintf("destination port %d", c.port), func(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
			return byDestinationPort(fs, c.port)
		}},
		{"destination address", func(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
			return e.byDestinationIP(fs, c.destIP)
		}},
		{fmt.Sprintf("server name %q", c.sni), func(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
			return byServerName(fs, c.sni)
		}},
		{"transport protocol " + c.transport, func(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
			return byTransportProtocol(fs, c.transport)
		}},
		{fmt.Sprintf("application protocols %v", c.alpn), func(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
			return byApplicationProtocols(fs, c.alpn)
		}},
		{"source of the connection", func(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
			return e.bySource(fs)
		}},
	}
	why := ""
	for _, s := range steps {
		before := len(cands)
		cands = s.keep(cands)
		if len(cands) == 0 {
			if before > 0 {
				why = "no filter chain matches " + s.what
			} else {
				why = "the listener has no filter chains"
			}
			break
		}
	}
	if len(cands) == 0 {
		if d := l.GetDefaultFilterChain(); d != nil {
			e.out.note("%s; the listener's default filter chain serves the connection", why)
			return d, ""
		}
		return nil, why + ": Envoy closes the connection"
	}
	if len(cands) > 1 {
		e.out.note("%d filter chains match equally (Envoy rejects such a listener); explaining the first", len(cands))
	}
	return cands[0], ""
}

func keep(fs []*listenerv3.FilterChain, ok func(*listenerv3.FilterChainMatch) bool) []*listenerv3.FilterChain {
	var out []*listenerv3.FilterChain
	for _, fc := range fs {
		if ok(fc.GetFilterChainMatch()) {
			out = append(out, fc)
		}
	}
	return out
}

// mostSpecific keeps the chains that name the value, or else those that do not care.
func mostSpecific(fs []*listenerv3.FilterChain, names, any func(*listenerv3.FilterChainMatch) bool) []*listenerv3.FilterChain {
	if out := keep(fs, names); len(out) > 0 {
		return out
	}
	return keep(fs, any)
}

func byDestinationPort(fs []*listenerv3.FilterChain, port uint32) []*listenerv3.FilterChain {
	return mostSpecific(fs,
		func(m *listenerv3.FilterChainMatch) bool { return m.GetDestinationPort().GetValue() == port },
		func(m *listenerv3.FilterChainMatch) bool { return m.GetDestinationPort().GetValue() == 0 })
}

func (e *explainer) byDestinationIP(fs []*listenerv3.FilterChain, ip netip.Addr) []*listenerv3.FilterChain {
	unconstrained := func(m *listenerv3.FilterChainMatch) bool { return len(m.GetPrefixRanges()) == 0 }
	if !ip.IsValid() {
		out := keep(fs, unconstrained)
		if len(out) < len(fs) {
			e.out.note("the listener binds a wildcard address, so chains matching on destination prefix_ranges were skipped")
		}
		return out
	}
	best := -1
	for _, fc := range fs {
		if b := longestContaining(fc.GetFilterChainMatch().GetPrefixRanges(), ip); b > best {
			best = b
		}
	}
	if best < 0 {
		return keep(fs, unconstrained)
	}
	return keep(fs, func(m *listenerv3.FilterChainMatch) bool { return longestContaining(m.GetPrefixRanges(), ip) == best })
}

// longestContaining is the longest prefix length among ranges that contains ip, or -1.
func longestContaining(ranges []*corev3.CidrRange, ip netip.Addr) int {
	best := -1
	for _, r := range ranges {
		a, err := netip.ParseAddr(r.GetAddressPrefix())
		if err != nil {
			continue
		}
		bits := int(r.GetPrefixLen().GetValue())
		p, err := a.Unmap().Prefix(bits)
		if err == nil && p.Contains(ip) && bits > best {
			best = bits
		}
	}
	return best
}

// byServerName follows Envoy: the exact name, then `*.` wildcards from the longest suffix
// (www.example.com tries *.example.com, then *.com), then chains without server_names.
func byServerName(fs []*listenerv3.FilterChain, sni string) []*listenerv3.FilterChain {
	sni = asciiLower(sni)
	has := func(name string) func(*listenerv3.FilterChainMatch) bool {
		return func(m *listenerv3.FilterChainMatch) bool {
			for _, n := range m.GetServerNames() {
				if asciiLower(n) == name {
					return true
				}
			}
			return false
		}
	}
	if sni != "" {
		if out := keep(fs, has(sni)); len(out) > 0 {
			return out
		}
		for pos := indexFrom(sni, '.', 1); pos >= 0 && pos < len(sni)-1; pos = indexFrom(sni, '.', pos+1) {
			if out := keep(fs, has("*"+sni[pos:])); len(out) > 0 {
				return out
			}
		}
	}
	return keep(fs, func(m *listenerv3.FilterChainMatch) bool { return len(m.GetServerNames()) == 0 })
}

func indexFrom(s string, c byte, from int) int {
	if from >= len(s) {
		return -1
	}
	i := strings.IndexByte(s[from:], c)
	if i < 0 {
		return -1
	}
	return from + i
}

func byTransportProtocol(fs []*listenerv3.FilterChain, proto string) []*listenerv3.FilterChain {
	return mostSpecific(fs,
		func(m *listenerv3.FilterChainMatch) bool { return m.GetTransportProtocol() == proto },
		func(m *listenerv3.FilterChainMatch) bool { return m.GetTransportProtocol() == "" })
}

// byApplicationProtocols tries the client's protocols in the order it offers them.
func byApplicationProtocols(fs []*listenerv3.FilterChain, alpn []string) []*listenerv3.FilterChain {
	for _, p := range alpn {
		out := keep(fs, func(m *listenerv3.FilterChainMatch) bool {
			for _, q := range m.GetApplicationProtocols() {
				if q == p {
					return true
				}
			}
			return false
		})
		if len(out) > 0 {
			return out
		}
	}
	return keep(fs, func(m *listenerv3.FilterChainMatch) bool { return len(m.GetApplicationProtocols()) == 0 })
}

// bySource keeps chains that accept any client: explain does not know the client's address.
func (e *explainer) bySource(fs []*listenerv3.FilterChain) []*listenerv3.FilterChain {
	out := keep(fs, func(m *listenerv3.FilterChainMatch) bool {
		return len(m.GetDirectSourcePrefixRanges()) == 0 &&
			m.GetSourceType() == listenerv3.FilterChainMatch_ANY &&
			len(m.GetSourcePrefixRanges()) == 0 && len(m.GetSourcePorts()) == 0
	})
	if len(out) < len(fs) {
		e.out.note("chains matching on the client's address or port were skipped: the client is unknown")
	}
	return out
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
