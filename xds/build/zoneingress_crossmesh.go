package build

import (
	"net"
	"sort"
	"strconv"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// Cross-mesh across zones (which Kuma never shipped): a consumer in mesh B and zone 2 dials a
// cross-mesh listener of mesh A whose gateway runs in zone 1. Its cluster sends the SNI
// `<gateway service>{mesh=A,port=<port>}` (crossMeshCluster); zone 1 offers that destination on
// its ZoneIngress (AvailableServices), and the ingress passes the connection through to the
// gateway's listener, where the caller is checked against mesh B's own bundle and mesh A's
// TrafficPermissions exactly as within a zone. Nothing is terminated on the way.

// crossMeshDestination is the tag set that names one cross-mesh listener port of a gateway.
func crossMeshDestination(e crossmesh.Exposure) map[string]string {
	return map[string]string{api.ServiceTag: e.GatewayService, "port": strconv.Itoa(int(e.Port))}
}

// localExposures are the cross-mesh listener ports with a gateway dataplane in this zone, one
// per (mesh, gateway service, port) (two hostnames on one port are one listener), sorted.
func localExposures(n *Network) []crossmesh.Exposure {
	type key struct {
		mesh, service string
		port          uint32
	}
	seen := map[key]bool{}
	var out []crossmesh.Exposure
	for _, e := range n.Table.Exposures {
		k := key{e.Mesh, e.GatewayService, e.Port}
		if len(e.Endpoints) == 0 || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Mesh != b.Mesh {
			return a.Mesh < b.Mesh
		}
		if a.GatewayService != b.GatewayService {
			return a.GatewayService < b.GatewayService
		}
		return a.Port < b.Port
	})
	return out
}

// remoteCrossMesh are the other zones' ingresses that offer the exposure's listener port.
func (b *builder) remoteCrossMesh(e *crossmesh.Exposure) []ir.Endpoint {
	if b.opts.Zone == "" || b.model == nil {
		return nil
	}
	want := crossMeshDestination(*e)
	var out []ir.Endpoint
	for _, zi := range b.model.ZoneIngresses() {
		n := zi.Spec.Networking
		if zi.Spec.Zone == "" || zi.Spec.Zone == b.opts.Zone || n == nil || net.ParseIP(n.AdvertisedAddress) == nil {
			continue
		}
		for _, s := range zi.Spec.AvailableServices {
			if s.Mesh != e.Mesh || s.Instances == 0 || !sameTags(s.Tags, want) {
				continue
			}
			out = append(out, ir.Endpoint{
				Address: n.AdvertisedAddress, Port: n.AdvertisedPort, Weight: s.Instances,
				Tags: map[string]string{api.ServiceTag: e.GatewayService}, Zone: zi.Spec.Zone, Priority: remotePriority,
			})
		}
	}
	return out
}

func sameTags(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// ingressCrossMeshChains are the ingress's chains to this zone's cross-mesh listeners.
func ingressCrossMeshChains(n *Network, meshTLS func(string) bool) ([]ir.FilterChain, []ir.Cluster) {
	var chains []ir.FilterChain
	var clusters []ir.Cluster
	for _, e := range localExposures(n) {
		if !meshTLS(e.Mesh) {
			continue
		}
		dest := crossMeshDestination(e)
		sni := names.UpstreamSNI(e.Mesh, dest)
		cluster := names.ZoneIngressCluster(e.Mesh, names.Cluster(dest))
		chains = append(chains, ir.FilterChain{
			Name: sni, ServerNames: []string{sni}, TransportProtocolTLS: true,
			TCP: &ir.TCPProxy{StatPrefix: cluster, Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}}},
		})
		c := ir.Cluster{Name: cluster, Service: e.GatewayService, Mesh: e.Mesh, Destination: dest, Protocol: ir.ClusterTCP}
		for _, ep := range e.Endpoints {
			c.Endpoints = append(c.Endpoints, ir.Endpoint{Address: ep.Address, Port: ep.Port, Weight: 1, Tags: map[string]string{api.ServiceTag: e.GatewayService}})
		}
		clusters = append(clusters, c)
	}
	return chains, clusters
}
