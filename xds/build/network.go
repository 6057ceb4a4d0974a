package build

import (
	"net"
	"net/netip"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
)

// Network is what every dataplane's clusters and outbounds depend on across the whole model:
// the endpoints of each service, the cross-mesh exposures and the VIPs. It is computed once
// per model, so that building n dataplanes does not scan every dataplane n times.
type Network struct {
	Table *crossmesh.Table
	VIPs  map[vip.Key]vip.VIPs
	// Problems are the cross-mesh conflicts Resolve found; a gateway whose listener lost a
	// name reports it in its own diagnostics.
	Problems []api.FieldError
	// meshes indexes each mesh's services by name.
	meshes map[string]*meshServices
	// serviceNames maps mesh → service → published `<service>.mesh` name.
	serviceNames map[string]map[string]string
	// hostOutbounds maps mesh → external service → the VIP listeners of its host entries.
	hostOutbounds map[string]map[string][]hostOutbound
}

// hostOutbound is where a transparently proxied application reaches an external service by
// its own host (docs/kuma-compatibility.md#dns-and-vips): the host's VIP on the service's port, and on port 80 too when no
// entry of the host has port 80 (Kuma's legacy alias, given to the host's lowest port).
type hostOutbound struct {
	Host  string
	VIP   netip.Addr
	Ports []uint32
}

// meshServices are the services of one mesh, sorted by name.
type meshServices struct {
	list   []*service
	byName map[string]*service
	// external maps a service to its ExternalService (the first by name: they would share a
	// cluster name); externals lists those, by name.
	external  map[string]*api.ExternalService
	externals []*api.ExternalService
}

// service is one `kuma.io/service` of a mesh: the inbounds that serve it.
type service struct {
	Name string
	// Protocol is the `kuma.io/protocol` every endpoint agrees on, or tcp.
	Protocol  string
	Endpoints []endpoint
}

// endpoint is one ready inbound. Bad is set when its address is not an IP: it is reported by
// the dataplanes that would use it and left out of EDS, which would reject the whole assignment.
type endpoint struct {
	ir.Endpoint
	Owner *api.Dataplane
	Bad   bool
}

// NewNetwork indexes m. table and problems come from crossmesh.Resolve, vips from the VIP
// allocator.
func NewNetwork(m *model.Model, table *crossmesh.Table, problems []api.FieldError, vips map[vip.Key]vip.VIPs) *Network {
	n := &Network{Table: table, Problems: problems, VIPs: vips, meshes: map[string]*meshServices{}, serviceNames: map[string]map[string]string{},
		hostOutbounds: map[string]map[string][]hostOutbound{}}
	if n.Table == nil {
		n.Table = &crossmesh.Table{}
	}
	for _, mesh := range m.Meshes() {
		n.meshes[mesh.Name] = indexServices(mesh)
		addRemoteServices(n.meshes[mesh.Name], mesh.Name, m.ZoneIngresses())
	}
	for _, s := range n.Table.Services {
		if n.serviceNames[s.Mesh] == nil {
			n.serviceNames[s.Mesh] = map[string]string{}
		}
		n.serviceNames[s.Mesh][s.Service] = s.Name
	}
	n.indexHosts()
	return n
}

// indexHosts builds hostOutbounds from the table's host entries, which are sorted by mesh,
// host and port: the first entry of a host is its lowest port.
func (n *Network) indexHosts() {
	has80 := map[vip.Key]bool{}
	for _, h := range n.Table.Hosts {
		if h.Port == serviceVIPPort {
			has80[vip.Key{Mesh: h.Mesh, Name: h.Host}] = true
		}
	}
	aliased := map[vip.Key]bool{}
	for _, h := range n.Table.Hosts {
		k := vip.Key{Mesh: h.Mesh, Name: h.Host}
		v := n.VIPs[k].V4
		if !v.IsValid() {
			continue
		}
		ports := []uint32{h.Port}
		if !has80[k] && !aliased[k] {
			aliased[k] = true
			ports = append(ports, serviceVIPPort)
		}
		if n.hostOutbounds[h.Mesh] == nil {
			n.hostOutbounds[h.Mesh] = map[string][]hostOutbound{}
		}
		n.hostOutbounds[h.Mesh][h.Service] = append(n.hostOutbounds[h.Mesh][h.Service], hostOutbound{Host: h.Host, VIP: v, Ports: ports})
	}
}

// PreviewNetwork is the Network of an offline render: VIPs as a fresh store would assign them.
func PreviewNetwork(m *model.Model) *Network {
	table, problems := crossmesh.Resolve(m)
	return NewNetwork(m, table, problems, vip.Preview(table.VIPKeys(), netip.Prefix{}))
}

func indexServices(mesh *model.Mesh) *meshServices {
	ms := &meshServices{byName: map[string]*service{}, external: map[string]*api.ExternalService{}}
	for _, es := range model.PoliciesOf[*api.ExternalService](mesh, api.KindExternalService) {
		if _, dup := ms.external[es.Service()]; !dup {
			ms.external[es.Service()] = es
			ms.externals = append(ms.externals, es)
		}
	}
	protocols := map[string]map[string]bool{}
	for _, dp := range mesh.Dataplanes {
		for _, in := range dp.Spec.Networking.Inbound {
			name := in.Tags[api.ServiceTag]
			if name == "" || in.Port == api.ServicelessPort {
				continue
			}
			s := ms.byName[name]
			if s == nil {
				s = &service{Name: name}
				ms.byName[name] = s
				ms.list = append(ms.list, s)
				protocols[name] = map[string]bool{}
			}
			protocols[name][in.Tags[api.ProtocolTag]] = true
			if in.Health != nil && !in.Health.Ready {
				continue
			}
			addr := in.Address
			if addr == "" {
				addr = dp.Spec.Networking.Address
			}
			s.Endpoints = append(s.Endpoints, endpoint{
				Endpoint: ir.Endpoint{Address: addr, Port: in.Port, Weight: 1, Tags: in.Tags},
				Owner:    dp,
				Bad:      net.ParseIP(addr) == nil,
			})
		}
	}
	for _, s := range ms.list {
		s.Protocol = "tcp"
		if len(protocols[s.Name]) == 1 {
			for p := range protocols[s.Name] {
				if p != "" {
					s.Protocol = p
				}
			}
		}
		sort.SliceStable(s.Endpoints, func(i, j int) bool {
			a, b := s.Endpoints[i], s.Endpoints[j]
			if a.Address != b.Address {
				return a.Address < b.Address
			}
			return a.Port < b.Port
		})
	}
	sort.Slice(ms.list, func(i, j int) bool { return ms.list[i].Name < ms.list[j].Name })
	return ms
}

// services returns the indexed services of a mesh (never nil).
func (n *Network) services(mesh string) *meshServices {
	if ms := n.meshes[mesh]; ms != nil {
		return ms
	}
	return &meshServices{byName: map[string]*service{}, external: map[string]*api.ExternalService{}}
}

// serviceVIP is the VIP of `<service>.mesh` in mesh, if one was published.
func (n *Network) serviceVIP(mesh, svc string) (netip.Addr, bool) {
	name, ok := n.serviceNames[mesh][svc]
	if !ok {
		return netip.Addr{}, false
	}
	v := n.VIPs[vip.Key{Mesh: mesh, Name: name}].V4
	return v, v.IsValid()
}

// exposureVIP is the VIP of a cross-mesh name.
func (n *Network) exposureVIP(name string) (netip.Addr, bool) {
	v := n.VIPs[vip.Key{Name: name}].V4
	return v, v.IsValid()
}

// Resolve is the VIP a dataplane of mesh gets for a name: a cross-mesh name, which every mesh
// sees, one of mesh's own `<service>.mesh` names, or the host of one of mesh's
// ExternalServices. name must be canonical (lower case, no trailing dot), as crossmesh
// publishes it.
func (n *Network) Resolve(mesh, name string) (netip.Addr, bool) {
	for _, e := range n.Table.Exposures {
		if e.Name == name {
			return n.exposureVIP(name)
		}
	}
	for _, s := range n.Table.Services {
		if s.Mesh == mesh && s.Name == name {
			return n.serviceVIP(mesh, s.Service)
		}
	}
	for _, h := range n.Table.Hosts {
		if h.Mesh == mesh && h.Host == name {
			v := n.VIPs[vip.Key{Mesh: mesh, Name: name}].V4
			return v, v.IsValid()
		}
	}
	return netip.Addr{}, false
}

// exposed reports whether listener index of gateway mesh/gw is published, and otherwise the
// problems that kept it out.
func (n *Network) exposed(mesh, gw string, listener int, resource string) (bool, []api.FieldError) {
	for _, e := range n.Table.Exposures {
		if e.Mesh == mesh && e.Gateway == gw && e.Listener == listener {
			return true, nil
		}
	}
	var out []api.FieldError
	for _, p := range n.Problems {
		if p.Resource == resource {
			out = append(out, p)
		}
	}
	return false, out
}

// EachService calls f for every mesh service with the protocol its endpoints agree on, by mesh
// and then service name: what a dataplane may depend on about services it does not use (the
// control plane's change tracking fingerprints it).
func (n *Network) EachService(f func(mesh, service, protocol string)) {
	meshes := make([]string, 0, len(n.meshes))
	for name := range n.meshes {
		meshes = append(meshes, name)
	}
	sort.Strings(meshes)
	for _, mesh := range meshes {
		for _, s := range n.meshes[mesh].list {
			f(mesh, s.Name, s.Protocol)
		}
	}
}
