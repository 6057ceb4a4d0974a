package build

import (
	"fmt"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// ZoneIngressRequest asks for the configuration of one of the local zone's ZoneIngresses.
type ZoneIngressRequest struct {
	Model *model.Model
	// Name is the ZoneIngress's name in the local store.
	Name string
	// Network indexes the zone's services; nil uses PreviewNetwork.
	Network *Network
}

// ZoneIngress builds a ZoneIngress's Envoy configuration, Kuma's shape: one listener at
// networking.address:port with the TLS inspector, and per service of every mTLS mesh one filter
// chain matching the SNI other zones' clients send (`api{mesh=default}`) that passes the TLS
// connection through to the service's local endpoints. The ingress never terminates TLS: the
// client's mTLS session ends at the destination's own sidecar, which checks the caller.
// Meshes without mTLS are left out: their clients send no SNI to route by.
func ZoneIngress(req ZoneIngressRequest) (*ir.Proxy, error) {
	var zi *api.ZoneIngress
	for _, z := range req.Model.ZoneIngresses() {
		if z.Name == req.Name {
			zi = z
		}
	}
	if zi == nil {
		return nil, fmt.Errorf("ZoneIngress %q: not found", req.Name)
	}
	n := zi.Spec.Networking
	if n == nil || n.Address == "" || n.Port == 0 {
		return nil, fmt.Errorf("ZoneIngress %q: networking.address and networking.port are required to serve it", req.Name)
	}
	network := req.Network
	if network == nil {
		network = PreviewNetwork(req.Model)
	}
	p := &ir.Proxy{Node: names.ZoneIngressNode(zi.Name), Dataplane: zi.Name}
	l := ir.Listener{
		Name: names.InboundListener(n.Address, n.Port), Address: n.Address, Port: n.Port,
		Protocol: ir.TCP, StatPrefix: zi.Name,
	}
	pass := func(mesh string, dest map[string]string, eps []ir.Endpoint) {
		fc, c := passthrough(mesh, dest, eps)
		l.FilterChains = append(l.FilterChains, fc)
		p.Clusters = append(p.Clusters, c)
	}
	for _, mesh := range req.Model.Meshes() {
		if !mesh.MTLSEnabled() {
			continue
		}
		services := network.services(mesh.Name).list
		sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
		for _, svc := range services {
			var eps []ir.Endpoint
			for _, e := range svc.Endpoints {
				if !e.Bad {
					eps = append(eps, e.Endpoint)
				}
			}
			if len(eps) > 0 {
				pass(mesh.Name, map[string]string{api.ServiceTag: svc.Name}, eps)
			}
		}
	}
	// This zone's cross-mesh listeners (see zoneingress_crossmesh.go).
	for _, e := range localExposures(network) {
		if ms := req.Model.Mesh(e.Mesh); ms == nil || !ms.MTLSEnabled() {
			continue
		}
		var eps []ir.Endpoint
		for _, ep := range e.Endpoints {
			eps = append(eps, ir.Endpoint{Address: ep.Address, Port: ep.Port, Weight: 1, Tags: map[string]string{api.ServiceTag: e.GatewayService}})
		}
		pass(e.Mesh, crossMeshDestination(e), eps)
	}
	// Envoy refuses a listener without filter chains: with nothing to reach yet, the ingress
	// binds nothing until a service appears.
	if len(l.FilterChains) > 0 {
		p.Listeners = []ir.Listener{l}
	}
	sort.Slice(p.Clusters, func(i, j int) bool { return p.Clusters[i].Name < p.Clusters[j].Name })
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("ZoneIngress %q: %w", zi.Name, err)
	}
	return p, nil
}

// passthrough is the ingress's filter chain for one destination of a mesh: the SNI other
// zones' clients send for it, TCP-proxied (TLS untouched) to its cluster of local endpoints.
func passthrough(mesh string, dest map[string]string, eps []ir.Endpoint) (ir.FilterChain, ir.Cluster) {
	sni := names.UpstreamSNI(mesh, dest)
	cluster := names.ZoneIngressCluster(mesh, names.Cluster(dest))
	return ir.FilterChain{
			Name: sni, ServerNames: []string{sni}, TransportProtocolTLS: true,
			TCP: &ir.TCPProxy{StatPrefix: cluster, Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}}},
		}, ir.Cluster{
			Name: cluster, Service: dest[api.ServiceTag], Mesh: mesh, Destination: dest,
			Protocol: ir.ClusterTCP, Endpoints: eps,
		}
}
