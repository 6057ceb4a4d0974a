package build

import (
	"maps"
	"sort"
	"strconv"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/xds/ir"
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
	want := crossMeshDestination(*e)
	return b.remoteIngresses(e.Mesh, e.GatewayService, func(s api.AvailableService) bool { return maps.Equal(s.Tags, want) })
}
