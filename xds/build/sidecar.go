package build

import (
	"net"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// sidecar builds a service dataplane or a delegated gateway: inbounds for the services it
// serves (a delegated gateway declares none), outbounds for what it calls, and with
// transparent proxying the redirect listeners that hand connections to them.
func (b *builder) sidecar() {
	if net.ParseIP(b.dp.Spec.Networking.Address) == nil {
		b.diag(&b.dp.Meta, "networking.address", "listeners bind to this address, so it must be an IP address, not %q", b.dp.Spec.Networking.Address)
		return
	}
	if b.isDelegated() && len(b.dp.Spec.Networking.Inbound) > 0 {
		b.diag(&b.dp.Meta, "networking.inbound", "a delegated gateway receives traffic through the proxy in front of it; its inbounds are ignored")
	} else {
		b.inbounds()
	}
	b.outbounds()
	if b.transparent() {
		b.redirectListeners()
	}
}

// Source addresses of inbound passthrough connections (Kuma's): the transparent proxy's
// iptables rules let connections from these addresses through instead of redirecting them
// back to Envoy.
const (
	inboundPassthroughSource     = "127.0.0.6"
	inboundPassthroughSourceIPv6 = "::6"
)

// isDelegated reports whether the dataplane is a delegated gateway (Kong or any proxy in
// front, the mesh behind): Kuma's default gateway type.
func (b *builder) isDelegated() bool {
	return b.dp.Spec.Networking.Gateway != nil && !b.dp.Spec.IsBuiltin()
}

// transparent reports whether traffic reaches this dataplane through iptables redirection, so
// its listeners are virtual and its outbounds live on VIPs.
func (b *builder) transparent() bool {
	tp := b.dp.Spec.Networking.TransparentProxying
	return tp != nil && tp.RedirectPortOutbound != 0
}

// passthroughFamily is one IP family's redirect listeners and passthrough clusters.
type passthroughFamily struct {
	any                               string // the wildcard address the listeners bind
	outboundListener, outboundCluster string
	inboundListener, inboundCluster   string
	inboundSource                     string
}

var (
	passthroughIPv4 = passthroughFamily{
		any:              "0.0.0.0",
		outboundListener: names.OutboundPassthroughListener, outboundCluster: names.PassthroughCluster,
		inboundListener: names.InboundPassthroughListener, inboundCluster: names.InboundPassthroughCluster,
		inboundSource: inboundPassthroughSource,
	}
	passthroughIPv6 = passthroughFamily{
		any:              "::",
		outboundListener: names.OutboundPassthroughListenerIPv6, outboundCluster: names.PassthroughClusterIPv6,
		inboundListener: names.InboundPassthroughListenerIPv6, inboundCluster: names.InboundPassthroughClusterIPv6,
		inboundSource: inboundPassthroughSourceIPv6,
	}
)

// redirectListeners are the listeners iptables sends connections to: outbound and inbound, for
// IPv4 and, as Kuma does, for IPv6 too unless the transparent proxy redirects only IPv4
// (`ipFamilyMode: IPv4`); a dataplane with an IPv6 address always gets them. Each hands a
// connection to the virtual listener of its original destination; what no listener claims
// passes through to where it was going (Kuma's passthrough). A delegated gateway gets the
// inbound ones too: with inbound redirection on, connections to the proxy in front of it (Kong)
// arrive there and pass through to it unchanged.
func (b *builder) redirectListeners() {
	b.passthrough(passthroughIPv4)
	tp := b.dp.Spec.Networking.TransparentProxying
	if ip := net.ParseIP(b.dp.Spec.Networking.Address); tp.RedirectsIPv6() || ip.To4() == nil {
		b.passthrough(passthroughIPv6)
	}
}

// passthrough adds one IP family's redirect listeners and their ORIGINAL_DST clusters; the
// inbound side only when inbound traffic is redirected (redirectPortInbound).
func (b *builder) passthrough(f passthroughFamily) {
	tp := b.dp.Spec.Networking.TransparentProxying
	add := func(name string, port uint32, dir ir.Direction, cluster string) {
		b.proxy.Listeners = append(b.proxy.Listeners, ir.Listener{
			Name: name, Address: f.any, Port: port, Protocol: ir.TCP, StatPrefix: name,
			Direction: dir, UseOriginalDst: true,
			DefaultChain: &ir.FilterChain{Name: name, TCP: &ir.TCPProxy{
				StatPrefix: name, Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}},
			}},
		})
	}
	b.clusters[f.outboundCluster] = &ir.Cluster{Name: f.outboundCluster, Service: "pass_through", Type: ir.ClusterOriginalDst, Protocol: ir.ClusterTCP}
	add(f.outboundListener, tp.RedirectPortOutbound, ir.DirectionOutbound, f.outboundCluster)
	if tp.RedirectPortInbound != 0 {
		b.clusters[f.inboundCluster] = &ir.Cluster{
			Name: f.inboundCluster, Service: "pass_through", Type: ir.ClusterOriginalDst,
			Protocol: ir.ClusterTCP, BindAddress: f.inboundSource,
		}
		add(f.inboundListener, tp.RedirectPortInbound, ir.DirectionInbound, f.inboundCluster)
	}
}
