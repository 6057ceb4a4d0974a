package controlplane

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// serviceRef is a mesh service whose endpoints a dataplane's clusters carry.
type serviceRef struct{ mesh, service string }

// impact is which dataplanes a change may alter. It errs on the side of too many: rendering a
// dataplane that did not change pushes nothing (versions are content hashes), missing one
// would leave it stale. TestImpactCoversEveryChangedDataplane holds it to the goldens.
type impact struct {
	all bool
	// meshes: every dataplane of these meshes; gateways: every builtin gateway of these.
	meshes, gateways map[string]bool
	// nodes are dataplanes whose own resource changed.
	nodes map[string]bool
	// services are those whose endpoints changed: their consumers are affected.
	services map[serviceRef]bool
}

// impactOf is what moving from before to after (changed: the records that differ) may alter.
// Only the kinds whose reach is known are narrowed; any other change reaches its whole mesh,
// and a change of the Mesh itself, or of what is shared across meshes (the network's shape),
// reaches every dataplane.
func impactOf(before, after *world, changed []store.Key) impact {
	im := impact{meshes: map[string]bool{}, gateways: map[string]bool{}, nodes: map[string]bool{}, services: map[serviceRef]bool{}}
	if before == nil || before.shape != after.shape {
		im.all = true
		return im
	}
	for _, k := range changed {
		switch api.Kind(k.Kind) {
		case api.KindMesh:
			im.all = true
			return im
		case api.KindDataplane:
			im.nodes[names.Node(k.Mesh, k.Name)] = true
			for _, w := range []*world{before, after} {
				for _, s := range servicesOf(w, k) {
					im.services[serviceRef{k.Mesh, s}] = true
				}
			}
		case api.KindMeshGateway, api.KindMeshGatewayRoute:
			// Sidecars see gateways only through cross-mesh exposures, which are in the shape.
			im.gateways[k.Mesh] = true
		default:
			im.meshes[k.Mesh] = true
		}
	}
	return im
}

// servicesOf is the services a dataplane serves in w: its inbounds', and a gateway's own.
func servicesOf(w *world, k store.Key) []string {
	ms := w.model.Mesh(k.Mesh)
	if ms == nil {
		return nil
	}
	dp := ms.Dataplane(k.Name)
	if dp == nil {
		return nil
	}
	var out []string
	for _, in := range dp.Spec.Networking.Inbound {
		if s := in.Tags[api.ServiceTag]; s != "" {
			out = append(out, s)
		}
	}
	if gw := dp.Spec.Networking.Gateway; gw != nil && gw.Tags[api.ServiceTag] != "" {
		out = append(out, gw.Tags[api.ServiceTag])
	}
	return out
}

// reaches reports whether the change may alter the dataplane described by dep.
func (im impact) reaches(node string, dep *dependencies) bool {
	if im.all || im.nodes[node] || im.meshes[dep.mesh] || (dep.gateway && im.gateways[dep.mesh]) {
		return true
	}
	for s := range dep.services {
		if im.services[s] {
			return true
		}
	}
	return false
}

// dependencies is what a rendered dataplane depends on beyond its own mesh's resources.
type dependencies struct {
	mesh    string
	gateway bool
	// services are those whose endpoints its clusters carry.
	services map[serviceRef]bool
}

func dependenciesOf(p *ir.Proxy, builtin bool) *dependencies {
	d := &dependencies{mesh: p.Mesh, gateway: builtin, services: map[serviceRef]bool{}}
	for _, c := range p.Clusters {
		if c.Service == "" {
			continue
		}
		mesh := c.Mesh
		if mesh == "" {
			mesh = p.Mesh
		}
		d.services[serviceRef{mesh, c.Service}] = true
	}
	return d
}
