package crossmesh

import (
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/meshgate/meshgate/crossmesh/vip"
)

// Table is the result of Resolve: every valid cross-mesh exposure, every service name and
// every ExternalService host entry.
type Table struct {
	// Exposures are sorted by mesh, gateway and listener index.
	Exposures []Exposure
	// Services are sorted by mesh, then service.
	Services []ServiceName
	// Hosts are sorted by mesh, host, then port.
	Hosts []HostName
}

// Exposure is one crossMesh listener, reachable from dataplanes of every mesh at Name:Port.
type Exposure struct {
	Mesh    string
	Gateway string
	// GatewayService is the gateway's `kuma.io/service`; clients check its SPIFFE ID.
	GatewayService string
	// Listener is the index in the MeshGateway's conf.listeners.
	Listener int
	Port     uint32
	// Name is the listener hostname, or InternalName when it has none or a wildcard.
	Name string
	// Internal is true when Name was generated rather than written by the user.
	Internal bool
	// Endpoints are the builtin dataplanes bound to the gateway, sorted by dataplane name.
	Endpoints []Endpoint
	// SPIFFEID is `spiffe://<mesh>/<gateway service>`, the SAN clients require.
	SPIFFEID spiffeid.ID
}

// Endpoint is one gateway dataplane serving an exposure.
type Endpoint struct {
	Dataplane string
	Address   string
	Port      uint32
}

// ServiceName is a `<service>.mesh` name that resolves only inside Mesh.
type ServiceName struct {
	Mesh    string
	Service string
	Name    string
}

// HostName is an ExternalService's own host (from networking.address) that resolves, inside
// Mesh only, to a VIP where its dataplanes' sidecars reach Service on Port (docs/kuma-compatibility.md#dns-and-vips). One
// host may have several entries, one per port, all on the host's one VIP.
type HostName struct {
	Mesh string
	// Host is lower case, without a trailing dot; never an IP literal.
	Host    string
	Service string
	Port    uint32
}

// VIPKeys lists the keys the VIP allocator needs for this table, sorted and without
// duplicates: exposure names are global (empty mesh), service names and hosts are per mesh, so
// the same `<service>.mesh` or host in two meshes gets two addresses and neither can leak into
// the other.
func (t *Table) VIPKeys() []vip.Key {
	seen := map[vip.Key]bool{}
	var keys []vip.Key
	add := func(k vip.Key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, e := range t.Exposures {
		add(vip.Key{Name: e.Name})
	}
	for _, s := range t.Services {
		add(vip.Key{Mesh: s.Mesh, Name: s.Name})
	}
	for _, h := range t.Hosts {
		add(vip.Key{Mesh: h.Mesh, Name: h.Host})
	}
	vip.SortKeys(keys)
	return keys
}
