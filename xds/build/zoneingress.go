package build

import (
	"net"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
)

// remotePriority is the Envoy priority of other zones' ingresses: used only when no local
// endpoint is healthy, as Kuma's zone-aware load balancing prefers the local zone.
const remotePriority = 1

// AvailableServices is what a zone control plane writes into its ZoneIngress before syncing it
// to global: every (mesh, service) with its tags kuma.io/service and kuma.io/protocol, and the
// number of ready inbounds. Sorted by mesh, then service.
//
// Cross-mesh gateway listeners with a gateway dataplane in the zone are offered too, as
// (gateway mesh, {kuma.io/service: <gateway service>, port: <listener port>}): a consumer in
// another mesh and zone reaches the listener through this zone's ingress (crossMeshCluster).
func AvailableServices(m *model.Model, n *Network) []api.AvailableService {
	if n == nil {
		n = PreviewNetwork(m)
	}
	var out []api.AvailableService
	for _, mesh := range m.Meshes() {
		type svc struct {
			protocol  string
			instances uint32
		}
		byName := map[string]*svc{}
		for _, dp := range mesh.Dataplanes {
			for _, in := range dp.Spec.Networking.Inbound {
				name := in.Tags[api.ServiceTag]
				if name == "" || in.Port == api.ServicelessPort {
					continue
				}
				s := byName[name]
				if s == nil {
					s = &svc{protocol: in.Tags[api.ProtocolTag]}
					byName[name] = s
				}
				if in.Health == nil || in.Health.Ready {
					s.instances++
				}
			}
		}
		names := make([]string, 0, len(byName))
		for name := range byName {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			tags := map[string]string{api.ServiceTag: name}
			if p := byName[name].protocol; p != "" {
				tags[api.ProtocolTag] = p
			}
			out = append(out, api.AvailableService{Mesh: mesh.Name, Tags: tags, Instances: byName[name].instances})
		}
	}
	for _, e := range localExposures(n) {
		out = append(out, api.AvailableService{Mesh: e.Mesh, Tags: crossMeshDestination(e), Instances: uint32(len(e.Endpoints))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Mesh < out[j].Mesh })
	return out
}

// remoteEndpoints are the other zones' ingresses that serve dest's service in the builder's
// mesh (see remoteIngresses). Only kuma.io/service is matched: availableServices carry no
// subset tags, so a subset (version: v1) stays local.
func (b *builder) remoteEndpoints(dest map[string]string) []ir.Endpoint {
	for k := range dest {
		if k != api.ServiceTag && k != api.ProtocolTag {
			return nil
		}
	}
	svc := dest[api.ServiceTag]
	return b.remoteIngresses(b.mesh.Name, svc, func(s api.AvailableService) bool {
		return s.IsService() && s.Tags[api.ServiceTag] == svc
	})
}

// remoteIngresses are the other zones' ingresses offering what offers matches in mesh: one
// endpoint each at the advertised address, weighted by its instances, at remotePriority.
// Standalone (no Options.Zone) has none. The ingress routes by the SNI of the client's mTLS
// session, so without mTLS in the builder's mesh a plain-text connection would reach it with
// nothing to route by: none then, reported.
func (b *builder) remoteIngresses(mesh, service string, offers func(api.AvailableService) bool) []ir.Endpoint {
	if b.opts.Zone == "" || b.model == nil {
		return nil
	}
	var out []ir.Endpoint
	for _, zi := range b.model.ZoneIngresses() {
		n := zi.Spec.Networking
		if zi.Spec.Zone == "" || zi.Spec.Zone == b.opts.Zone || n == nil || n.AdvertisedAddress == "" {
			continue
		}
		for _, s := range zi.Spec.AvailableServices {
			if s.Mesh != mesh || s.Instances == 0 || !offers(s) {
				continue
			}
			if !b.mesh.MTLSEnabled() {
				b.diag(&zi.Meta, "availableServices", "%s of mesh %s has instances in zone %s, reachable only through this ZoneIngress, which needs mTLS enabled on mesh %s; not used", service, mesh, zi.Spec.Zone, b.mesh.Name)
				continue
			}
			if net.ParseIP(n.AdvertisedAddress) == nil {
				b.diag(&zi.Meta, "networking.advertisedAddress", "%q is not an IP address; not used as an endpoint of %s", n.AdvertisedAddress, service)
				continue
			}
			out = append(out, ir.Endpoint{
				Address: n.AdvertisedAddress, Port: n.AdvertisedPort, Weight: s.Instances,
				Tags: map[string]string{api.ServiceTag: service}, Zone: zi.Spec.Zone, Priority: remotePriority,
			})
		}
	}
	return out
}

// withRemote adds the other zones' ingresses to the local endpoints. Without any local one
// they become priority 0: Envoy's priorities have no gaps, and there is nothing to prefer.
func (b *builder) withRemote(local []ir.Endpoint, dest map[string]string) []ir.Endpoint {
	remote := b.remoteEndpoints(dest)
	if len(local) == 0 {
		for i := range remote {
			remote[i].Priority = 0
		}
	}
	return append(local, remote...)
}

// addRemoteServices lists the services other zones offer on their ingresses that have no
// instance here: with no local endpoint, they still get a `<service>.mesh` outbound (whose
// cluster reaches the ingresses, remoteEndpoints) and the protocol the offering zone reports.
func addRemoteServices(ms *meshServices, mesh string, ingresses []*api.ZoneIngress) {
	added := false
	for _, zi := range ingresses {
		for _, s := range zi.Spec.AvailableServices {
			name := s.Tags[api.ServiceTag]
			if s.Mesh != mesh || s.Instances == 0 || !s.IsService() {
				continue
			}
			if cur := ms.byName[name]; cur != nil {
				if len(cur.Endpoints) == 0 && cur.Protocol == "tcp" && s.Tags[api.ProtocolTag] != "" {
					cur.Protocol = s.Tags[api.ProtocolTag]
				}
				continue
			}
			svc := &service{Name: name, Protocol: "tcp"}
			if p := s.Tags[api.ProtocolTag]; p != "" {
				svc.Protocol = p
			}
			ms.byName[name] = svc
			ms.list = append(ms.list, svc)
			added = true
		}
	}
	if added {
		sort.Slice(ms.list, func(i, j int) bool { return ms.list[i].Name < ms.list[j].Name })
	}
}
