package build

import (
	"fmt"
	"net"
	"strconv"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// serviceVIPPort is the port every `<service>.mesh` VIP answers on (Kuma's serviceVipPort).
const serviceVIPPort = 80

// explicitOutboundAddress is where an outbound without an address listens: the application
// reaches its dependencies on localhost when there is no transparent proxy.
const explicitOutboundAddress = "127.0.0.1"

// outbound is one listener a dataplane gets for a destination.
type outbound struct {
	field string
	addr  string
	port  uint32
	// virtual outbounds live on VIPs and are reached through the redirect listener.
	virtual bool
	// Exactly one of these is the destination.
	dest     map[string]string // a service of the dataplane's own mesh (with subset tags)
	exposure *crossmesh.Exposure
	external *externalService
}

// outbounds builds, in order, the explicit `networking.outbound` listeners and, with
// transparent proxying, one listener per VIP: every service of the mesh, every external
// service and every cross-mesh exposure.
func (b *builder) outbounds() {
	var outs []outbound
	// Inbounds are built first: an outbound on an inbound's address and port is skipped with a
	// diagnostic instead of failing the whole dataplane's configuration.
	taken := map[string]string{}
	for _, l := range b.proxy.Listeners {
		taken[net.JoinHostPort(l.Address, strconv.Itoa(int(l.Port)))] = "listener " + l.Name
	}
	for i, o := range b.dp.Spec.Networking.Outbound {
		field := fmt.Sprintf("networking.outbound[%d]", i)
		out, ok := b.explicitOutbound(field, o.Address, o.Port, o.Tags)
		if ok {
			outs = append(outs, out)
		}
	}
	if b.transparent() {
		outs = append(outs, b.transparentOutbounds()...)
	}
	for _, o := range outs {
		key := net.JoinHostPort(o.addr, strconv.Itoa(int(o.port)))
		if first, ok := taken[key]; ok {
			b.diag(&b.dp.Meta, o.field, "%s is already the outbound of %s; skipped", key, first)
			continue
		}
		if l, ok := b.outboundListener(o); ok {
			taken[key] = o.field
			b.proxy.Listeners = append(b.proxy.Listeners, l)
		}
	}
}

// explicitOutbound resolves a declared outbound. `kuma.io/mesh` naming another mesh (or the
// own mesh's cross-mesh gateway) makes it a cross-mesh outbound (docs/kuma-compatibility.md#cross-mesh-outbound).
func (b *builder) explicitOutbound(field, addr string, port uint32, tags map[string]string) (outbound, bool) {
	if addr == "" {
		addr = explicitOutboundAddress
	}
	out := outbound{field: field, addr: addr, port: port}
	if net.ParseIP(addr) == nil {
		b.diag(&b.dp.Meta, field+".address", "must be an IP address, not %q; outbound skipped", addr)
		return out, false
	}
	svc := tags[api.ServiceTag]
	if svc == "" {
		b.diag(&b.dp.Meta, field+".tags", "%s is required; outbound skipped", api.ServiceTag)
		return out, false
	}
	if mesh, ok := tags[api.MeshTag]; ok {
		if e := b.exposureFor(mesh, svc, tags["port"]); e != nil {
			out.exposure = e
			return out, true
		}
		if mesh != b.mesh.Name {
			b.diag(&b.dp.Meta, field+".tags", "mesh %q exposes no cross-mesh gateway %q; outbound skipped", mesh, svc)
			return out, false
		}
	}
	if es := b.externalService(svc); es != nil {
		out.external = es
		return out, true
	}
	dest := map[string]string{}
	for k, v := range tags {
		if k != api.MeshTag {
			dest[k] = v
		}
	}
	if b.network.services(b.mesh.Name).byName[svc] == nil {
		// Kept: the service may come up later, and Envoy answers with no healthy upstream.
		b.diag(&b.dp.Meta, field+".tags", "no dataplane of mesh %q serves %q yet", b.mesh.Name, svc)
	}
	out.dest = dest
	return out, true
}

// exposureFor finds the cross-mesh exposure of the gateway service svc in mesh. A gateway with
// several cross-mesh ports (an HTTP and a TCP one, say) is told apart by the outbound's `port`
// tag; without one the first port is used.
func (b *builder) exposureFor(mesh, svc, port string) *crossmesh.Exposure {
	for i := range b.network.Table.Exposures {
		e := &b.network.Table.Exposures[i]
		if e.Mesh == mesh && e.GatewayService == svc && (port == "" || port == strconv.Itoa(int(e.Port))) {
			return e
		}
	}
	return nil
}

// transparentOutbounds are the VIP listeners, in the order services, external services,
// exposures; a name without a VIP (offline render of a name that failed) is skipped.
func (b *builder) transparentOutbounds() []outbound {
	var outs []outbound
	for _, s := range b.network.services(b.mesh.Name).list {
		if v, ok := b.network.serviceVIP(b.mesh.Name, s.Name); ok {
			outs = append(outs, outbound{field: "networking.transparentProxying", virtual: true, addr: v.String(), port: serviceVIPPort, dest: map[string]string{api.ServiceTag: s.Name}})
		}
	}
	outs = append(outs, b.externalOutbounds()...)
	for i := range b.network.Table.Exposures {
		e := &b.network.Table.Exposures[i]
		if v, ok := b.network.exposureVIP(e.Name); ok {
			outs = append(outs, outbound{field: "networking.transparentProxying", virtual: true, addr: v.String(), port: e.Port, exposure: e})
		}
	}
	return outs
}

// outboundListener builds the listener of one outbound and the cluster behind it.
func (b *builder) outboundListener(o outbound) (ir.Listener, bool) {
	name := names.OutboundListener(o.addr, o.port)
	l := ir.Listener{
		Name: name, Address: o.addr, Port: o.port, Protocol: ir.TCP, StatPrefix: name,
		Direction: ir.DirectionOutbound, Virtual: o.virtual,
	}
	var (
		cluster, service string
		protocol         = "tcp"
		dest             map[string]string
	)
	switch {
	case o.exposure != nil:
		c, ok := b.crossMeshCluster(o.field, o.exposure)
		if !ok {
			return l, false
		}
		cluster, service = c, o.exposure.GatewayService
		dest = map[string]string{api.ServiceTag: service, api.MeshTag: o.exposure.Mesh}
	case o.external != nil:
		cluster, service, protocol = b.externalCluster(o.external, nil), o.external.service, o.external.protocol
		dest = map[string]string{api.ServiceTag: service}
	default:
		service = o.dest[api.ServiceTag]
		if s := b.network.services(b.mesh.Name).byName[service]; s != nil {
			protocol = s.Protocol
		}
		proto := ir.ClusterTCP
		if isHTTP(protocol) {
			proto = ir.ClusterHTTP
		}
		cluster, dest = b.cluster(o.dest, proto, nil), o.dest
		if c := b.clusters[cluster]; c != nil && isHTTP(protocol) && c.Type == ir.ClusterEDS {
			// Sidecar to sidecar, HTTP/2 for every HTTP service as in Kuma: the destination's
			// inbound detects it (codec auto) and speaks the declared protocol to the application.
			c.Protocol, c.DefaultHTTP2Windows = ir.ClusterHTTP2, true
		}
	}
	l.StatPrefix = service
	fc := ir.FilterChain{Name: name}
	logs := b.accessLogs(dest, isHTTP(protocol))
	if isHTTP(protocol) {
		l.Protocol = ir.HTTP
		route := ir.Route{
			Name:    names.OutboundRoute,
			Match:   ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
			Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}}},
		}
		if v := names.TagsHeaderValue(b.sourceTags()); v != "" && o.external == nil {
			route.RequestHeaders.Set = []ir.Header{{Name: names.TagsHeader, Value: v}}
		}
		if o.external != nil {
			// As Kuma does: the external server sees its own name as Host (httpbin.org), not the
			// `.mesh` name or VIP the application called, which virtual-hosted servers reject.
			route.Forward.AutoHostRewrite = true
		}
		dests := []map[string]string{withProtocolTag(dest, protocol)}
		b.routePolicies(route.Forward, dests, nil)
		outboundTimeoutDefaults(route.Forward)
		b.outboundRateLimit(route.Forward, dests, o.external != nil)
		fc.HTTP = &ir.HTTPConnectionManager{
			StatPrefix: service, Sidecar: true, AccessLogs: logs,
			RouteConfig: ir.RouteConfig{
				Name:         name,
				VirtualHosts: []ir.VirtualHost{{Name: service, Domains: []string{"*"}, Routes: []ir.Route{route}}},
				// Only this proxy may say who is calling: an application cannot claim other tags.
				RequestHeadersToRemove: []string{names.TagsHeader},
			},
		}
	} else {
		fc.TCP = &ir.TCPProxy{StatPrefix: service, Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}}, AccessLogs: logs}
		b.tcpPolicies(fc.TCP, []map[string]string{dest}, nil)
	}
	l.FilterChains = []ir.FilterChain{fc}
	return l, true
}

// sourceTags are what this dataplane says about itself in x-kuma-tags (see SourceTags).
func (b *builder) sourceTags() map[string]string { return SourceTags(b.dp) }

// SourceTags are what a dataplane's outbounds say about it in x-kuma-tags: its gateway tags or
// the tags of its inbounds, so destinations can match FaultInjection and RateLimit sources.
func SourceTags(dp *api.Dataplane) map[string]string {
	if g := dp.Spec.Networking.Gateway; g != nil {
		return g.Tags
	}
	var sets []map[string]string
	for _, in := range dp.Spec.Networking.Inbound {
		sets = append(sets, in.Tags)
	}
	return model.MergeTags(sets...)
}

// crossMeshCluster is the cluster of a gateway in another mesh (or this mesh's own cross-mesh
// gateway): the dataplane presents its own mesh's identity and checks the gateway's SPIFFE ID
// against the gateway mesh's bundle, which it is sent as a secret of its own.
func (b *builder) crossMeshCluster(field string, e *crossmesh.Exposure) (string, bool) {
	if !b.mesh.MTLSEnabled() {
		b.diag(&b.dp.Meta, field, "mesh %q has no mTLS, so it cannot call cross-mesh gateway %s/%s (%s); outbound skipped", b.mesh.Name, e.Mesh, e.Gateway, e.Name)
		return "", false
	}
	dest := map[string]string{api.ServiceTag: e.GatewayService, "port": strconv.Itoa(int(e.Port))}
	name := names.CrossMeshCluster(dest, e.Mesh)
	if _, ok := b.clusters[name]; ok {
		return name, true
	}
	c := &ir.Cluster{
		Name: name, Service: e.GatewayService, Mesh: e.Mesh, Destination: dest, Protocol: ir.ClusterTCP,
		MTLS: &ir.UpstreamMTLS{
			IdentitySecret:   names.IdentitySecret(b.mesh.Name),
			ValidationSecret: names.MeshCASecret(e.Mesh),
			// The port names the listener, so another zone's ingress can route to it.
			SNI:  names.UpstreamSNI(e.Mesh, dest),
			SAN:  e.SPIFFEID.String(),
			ALPN: []string{names.MeshALPN},
		},
	}
	for _, ep := range e.Endpoints {
		c.Endpoints = append(c.Endpoints, ir.Endpoint{Address: ep.Address, Port: ep.Port, Weight: 1, Tags: map[string]string{api.ServiceTag: e.GatewayService}})
	}
	remote := b.remoteCrossMesh(e)
	if len(c.Endpoints) == 0 {
		for i := range remote {
			remote[i].Priority = 0
		}
	}
	c.Endpoints = append(c.Endpoints, remote...)
	b.clusters[name] = c
	if pem := b.bundles[e.Mesh]; pem != "" && b.identity != nil {
		b.secrets[names.MeshCASecret(e.Mesh)] = ir.Secret{Name: names.MeshCASecret(e.Mesh), TrustedCA: pem}
	}
	return name, true
}

// withProtocolTag adds the service's protocol to a destination for policy decisions that depend
// on it (Retry's grpc section), without renaming the cluster.
func withProtocolTag(dest map[string]string, protocol string) map[string]string {
	if protocol == "" || dest[api.ProtocolTag] != "" {
		return dest
	}
	out := model.MergeTags(dest)
	out[api.ProtocolTag] = protocol
	return out
}
