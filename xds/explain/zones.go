package explain

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// noteRemoteZones names the hop through another zone's ZoneIngress: the build puts those
// endpoints in a locality with the remote zone's name; local endpoints have none.
func (e *explainer) noteRemoteZones(c *clusterv3.Cluster, b *Backend) {
	if c.GetType() != clusterv3.Cluster_EDS {
		return
	}
	cla := e.loadAssignment(c)
	sni := ""
	if b.TLS != nil && b.TLS.SNI != "" {
		sni = ", SNI " + b.TLS.SNI
	}
	for _, loc := range cla.GetEndpoints() {
		zone := loc.GetLocality().GetZone()
		if zone == "" {
			continue
		}
		when := ""
		if loc.GetPriority() > 0 {
			when = fmt.Sprintf(" (priority %d: used when no local endpoint is healthy)", loc.GetPriority())
		}
		for _, ep := range loc.GetLbEndpoints() {
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			e.out.note("cluster %q reaches %s via the ZoneIngress of zone %s at %s:%d%s%s",
				c.GetName(), b.Service, zone, sa.GetAddress(), sa.GetPortValue(), when, sni)
		}
	}
}
