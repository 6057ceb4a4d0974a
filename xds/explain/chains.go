package explain

import (
	"fmt"
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

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
