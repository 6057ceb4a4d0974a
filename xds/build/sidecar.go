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

// inboundPassthroughSource is the source address of inbound passthrough connections (Kuma's).
const inboundPassthroughSource = "127.0.0.6"

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

// redirectListeners are the two listeners iptables sends connections to. Each hands a
// connection to the virtual listener of its original destination; what no listener claims
// passes through to where it was going (Kuma's passthrough).
func (b *builder) redirectListeners() {
	tp := b.dp.Spec.Networking.TransparentProxying
	add := func(name string, port uint32, dir ir.Direction, cluster string) {
		b.proxy.Listeners = append(b.proxy.Listeners, ir.Listener{
			Name: name, Address: "0.0.0.0", Port: port, Protocol: ir.TCP, StatPrefix: name,
			Direction: dir, UseOriginalDst: true,
			DefaultChain: &ir.FilterChain{Name: name, TCP: &ir.TCPProxy{
				StatPrefix: name, Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}},
			}},
		})
	}
	b.clusters[names.PassthroughCluster] = &ir.Cluster{Name: names.PassthroughCluster, Service: "pass_through", Type: ir.ClusterOriginalDst, Protocol: ir.ClusterTCP}
	add(names.OutboundPassthroughListener, tp.RedirectPortOutbound, ir.DirectionOutbound, names.PassthroughCluster)
	if tp.RedirectPortInbound != 0 && !b.isDelegated() {
		b.clusters[names.InboundPassthroughCluster] = &ir.Cluster{
			Name: names.InboundPassthroughCluster, Service: "pass_through", Type: ir.ClusterOriginalDst,
			Protocol: ir.ClusterTCP, BindAddress: inboundPassthroughSource,
		}
		add(names.InboundPassthroughListener, tp.RedirectPortInbound, ir.DirectionInbound, names.InboundPassthroughCluster)
	}
}
