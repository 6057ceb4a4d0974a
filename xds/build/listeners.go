package build

import (
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// host is one MeshGateway listener: a hostname on a port, with its tags and attached routes.
type host struct {
	index    int // in conf.listeners, for diagnostics
	hostname string
	tags     map[string]string
	spec     api.Listener
	routes   []*api.MeshGatewayRoute // attached, of the listener's kind (HTTP or TCP), by name
}

// port is every MeshGateway listener on one port: they become one Envoy listener (docs/kuma-compatibility.md#listeners-per-port).
type port struct {
	number   uint32
	protocol api.Protocol
	hosts    []*host // most exact hostname first
}

func (b *builder) ports() []*port {
	byNumber := map[uint32]*port{}
	for i, l := range b.gateway.Spec.Conf.Listeners {
		p := byNumber[l.Port]
		if p == nil {
			// Validation rejects ports whose listeners disagree on protocol, so the first is the port's.
			p = &port{number: l.Port, protocol: l.Protocol}
			byNumber[l.Port] = p
		}
		h := &host{
			index:    i,
			hostname: names.Hostname(l.Hostname),
			tags:     model.MergeTags(b.dp.Spec.Networking.Gateway.Tags, b.gateway.Spec.Tags, l.Tags),
			spec:     l,
		}
		h.routes = b.attachedRoutes(h, p.protocol)
		p.hosts = append(p.hosts, h)
	}
	out := make([]*port, 0, len(byNumber))
	for _, p := range byNumber {
		sort.SliceStable(p.hosts, func(i, j int) bool { return moreExact(p.hosts[i].hostname, p.hosts[j].hostname) })
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

func (b *builder) attachedRoutes(h *host, proto api.Protocol) []*api.MeshGatewayRoute {
	httpListener := proto == api.ProtocolHTTP || proto == api.ProtocolHTTPS
	var out []*api.MeshGatewayRoute
	for _, r := range b.mesh.Routes {
		if !routeAttaches(r.Spec.Selectors, h.tags) {
			continue
		}
		switch {
		case httpListener && r.Spec.Conf.HTTP != nil, !httpListener && r.Spec.Conf.TCP != nil:
			out = append(out, r)
		case httpListener:
			b.diag(&r.Meta, "conf.tcp", "TCP route ignored on %s listener %s", proto, b.listenerName(proto, h.spec.Port))
		default:
			b.diag(&r.Meta, "conf.http", "HTTP route ignored on %s listener %s", proto, b.listenerName(proto, h.spec.Port))
		}
	}
	return out
}

func (b *builder) listenerName(proto api.Protocol, port uint32) string {
	return names.Listener(b.gateway.Name, string(proto), port)
}

func (b *builder) listener(p *port) (ir.Listener, bool) {
	l := ir.Listener{
		Name:       b.listenerName(p.protocol, p.number),
		Address:    b.dp.Spec.Networking.Address,
		Port:       p.number,
		Protocol:   ir.Protocol(p.protocol),
		StatPrefix: b.gatewayService(),
	}
	crossMesh := false
	for _, h := range p.hosts {
		if h.spec.Resources != nil && h.spec.Resources.ConnectionLimit > 0 {
			l.ConnectionLimit = h.spec.Resources.ConnectionLimit
		}
		crossMesh = crossMesh || h.spec.CrossMesh
	}
	switch {
	case crossMesh:
		fc, ok := b.crossMeshChain(l.Name, p)
		if !ok {
			return l, false
		}
		l.CrossMesh = true
		l.FilterChains = []ir.FilterChain{fc}
	case p.protocol == api.ProtocolHTTP:
		l.FilterChains = []ir.FilterChain{b.httpChain(l.Name, "*", p.hosts, nil)}
	case p.protocol == api.ProtocolHTTPS:
		for _, h := range p.hosts {
			if fc, ok := b.httpsChain(l.Name, h); ok {
				l.FilterChains = append(l.FilterChains, fc)
			}
		}
	case p.protocol == api.ProtocolTCP:
		if fc, ok := b.tcpChain(l.Name, "*", p.hosts); ok {
			l.FilterChains = append(l.FilterChains, fc)
		}
	case p.protocol == api.ProtocolTLS:
		for _, h := range p.hosts {
			if fc, ok := b.tlsChain(l.Name, h); ok {
				l.FilterChains = append(l.FilterChains, fc)
			}
		}
	}
	if len(l.FilterChains) == 0 {
		// Envoy rejects a listener without filter chains; Kuma sent an empty one (docs/kuma-compatibility.md#listeners-per-port).
		b.diag(&b.gateway.Meta, "conf.listeners", "listener %s has nothing to serve (no routes or no usable certificate); it is not configured", l.Name)
		return l, false
	}
	return l, true
}

func (b *builder) httpChain(listener, hostname string, hosts []*host, tls *ir.DownstreamTLS) ir.FilterChain {
	rc := names.RouteConfig(listener, hostname)
	fc := ir.FilterChain{
		Name: names.FilterChain(listener, hostname),
		TLS:  tls,
		HTTP: &ir.HTTPConnectionManager{
			StatPrefix:  b.gatewayService(),
			Options:     b.opts.HTTP,
			AccessLogs:  b.accessLogs(gatewayLogDestination, true),
			Compression: true,
			RouteConfig: ir.RouteConfig{
				Name:                   rc,
				VirtualHosts:           b.virtualHosts(hosts, tls != nil),
				RequestHeadersToRemove: []string{names.TagsHeader},
			},
		},
	}
	if tls != nil {
		fc.TransportProtocolTLS = true
		if hostname != "*" {
			fc.ServerNames = []string{hostname}
		}
	}
	return fc
}

func (b *builder) httpsChain(listener string, h *host) (ir.FilterChain, bool) {
	secrets, ok := b.certificates(h)
	if !ok {
		return ir.FilterChain{}, false
	}
	tls := &ir.DownstreamTLS{CertificateSecrets: secrets, ALPN: []string{"h2", "http/1.1"}, MinVersion: "TLSv1_2"}
	return b.httpChain(listener, h.hostname, []*host{h}, tls), true
}

func (b *builder) tcpChain(listener, hostname string, hosts []*host) (ir.FilterChain, bool) {
	var (
		clusters []ir.WeightedCluster
		dests    []map[string]string
	)
	for _, h := range hosts {
		for _, r := range h.routes {
			for _, rule := range r.Spec.Conf.TCP.Rules {
				for _, be := range rule.Backends {
					clusters = append(clusters, ir.WeightedCluster{
						Name: b.cluster(be.Destination, ir.ClusterTCP, h.tags), Weight: be.EffectiveWeight(),
					})
					dests = append(dests, be.Destination)
				}
			}
		}
	}
	if len(clusters) == 0 {
		return ir.FilterChain{}, false
	}
	tcp := &ir.TCPProxy{StatPrefix: b.gatewayService(), Clusters: mergeWeighted(clusters), AccessLogs: b.accessLogs(gatewayLogDestination, false)}
	b.tcpPolicies(tcp, dests, hosts[0].tags)
	return ir.FilterChain{Name: names.FilterChain(listener, hostname), TCP: tcp}, true
}

func (b *builder) tlsChain(listener string, h *host) (ir.FilterChain, bool) {
	fc, ok := b.tcpChain(listener, h.hostname, []*host{h})
	if !ok {
		return fc, false
	}
	fc.TransportProtocolTLS = true
	if h.hostname != "*" {
		fc.ServerNames = []string{h.hostname}
	}
	if h.spec.TLS != nil && h.spec.TLS.Mode == api.TLSModeTerminate {
		secrets, ok := b.certificates(h)
		if !ok {
			return fc, false
		}
		// No ALPN: the bytes inside are opaque to the gateway.
		fc.TLS = &ir.DownstreamTLS{CertificateSecrets: secrets, MinVersion: "TLSv1_2"}
	}
	return fc, true
}

// mergeWeighted sums the weights of repeated clusters and orders them by name, so that several
// TCP routes on one listener split traffic between their backends (Kuma's behaviour, docs/kuma-compatibility.md#merging-routes).
func mergeWeighted(in []ir.WeightedCluster) []ir.WeightedCluster {
	idx := map[string]int{}
	var out []ir.WeightedCluster
	for _, c := range in {
		if i, ok := idx[c.Name]; ok {
			out[i].Weight += c.Weight
			continue
		}
		idx[c.Name] = len(out)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
