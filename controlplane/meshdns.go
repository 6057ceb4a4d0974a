package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/dns"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/build"
)

// meshDNS publishes `.mesh` names: every cross-mesh listener's name (for every client) and
// each mesh's `<service>.mesh` names and ExternalService hosts (for that mesh's dataplanes,
// known by source address; hosts outside `.mesh` only for dataplanes, not the default view),
// at VIPs that are unique across meshes and stable across restarts. dns knows nothing of
// meshes; this is where the two meet.
type meshDNS struct {
	server      *dns.Server
	vips        *vip.Allocator
	cfg         DNSConfig
	log         *slog.Logger
	viewsByAddr atomic.Pointer[map[netip.Addr]string]

	mu       sync.Mutex
	problems []string
	// VIPs are allocated by the lease holder; followers read them (leasewire.go).
	vipLease
}

// newMeshDNS creates the DNS server (no socket yet) and the VIP allocator.
func newMeshDNS(cfg DNSConfig, st store.Store, reg prometheus.Registerer, log *slog.Logger) (*meshDNS, error) {
	d := &meshDNS{cfg: cfg, log: log}
	empty := map[netip.Addr]string{}
	d.viewsByAddr.Store(&empty)
	cidr, err := netip.ParsePrefix(cfg.VIPCIDR)
	if err != nil {
		return nil, fmt.Errorf("VIP CIDR %q: %w", cfg.VIPCIDR, err)
	}
	// A VIP freed now may still sit in resolver caches for a TTL; twice that is safe.
	if d.vips, err = vip.NewAllocator(st, vip.Options{CIDR4: cidr, IPv6: cfg.IPv6, Quarantine: 2 * cfg.TTL}); err != nil {
		return nil, err
	}
	upstreams := cfg.Upstreams
	if cfg.Forward && len(upstreams) == 0 {
		if upstreams, err = dns.UpstreamsFromResolvConf(""); err != nil {
			log.Warn("no upstream resolvers: names outside .mesh will be refused", "error", err)
		}
	}
	if !cfg.Forward {
		upstreams = nil
	}
	allow, err := forwardAllow(cfg.ForwardAllow)
	if err != nil {
		return nil, err
	}
	d.server, err = dns.New(dns.Options{
		Address: cfg.Address, ViewOf: d.viewOf, DefaultView: cfg.DefaultMesh, Upstreams: upstreams,
		ForwardAllow: allow, SocketsPerCore: true, Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// forwardAllow parses the static part of the forward allow list. A single address is a
// one-host prefix. nil stays nil: the dns package's default (loopback).
func forwardAllow(list []string) ([]netip.Prefix, error) {
	if list == nil {
		return nil, nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("DNS forward allow list (--dns-forward-allow): %q is not a CIDR or an IP address: %w", s, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

// viewOf maps a querying dataplane's address to its mesh.
func (d *meshDNS) viewOf(client netip.Addr) string {
	return (*d.viewsByAddr.Load())[client]
}

// update resolves the cross-mesh table, allocates VIPs and swaps in the new zone. It returns
// the Network every dataplane's outbounds are built from, so that DNS answers and outbound
// listeners always use the same VIPs. A problem here never holds back xDS: names are
// published for what resolves, problems are logged.
func (d *meshDNS) update(ctx context.Context, m *model.Model) (*build.Network, error) {
	// Every dataplane may use forwarding (its application resolves everything through us),
	// whatever becomes of the zone below.
	d.server.SetForwardAllowed(dataplaneAddrs(m))
	table, problems := crossmesh.Resolve(m)
	d.report(problems)
	vips, err := d.syncVIPs(ctx, table.VIPKeys())
	if err != nil {
		return nil, fmt.Errorf("allocating VIPs: %w", err)
	}
	zc := dns.ZoneConfig{TTL: d.cfg.TTL, Views: map[string][]dns.Record{}}
	seen := map[string]bool{}
	for _, e := range table.Exposures {
		if seen[e.Name] {
			continue // one name, several ports: one record
		}
		seen[e.Name] = true
		v, ok := vips[vip.Key{Name: e.Name}]
		if !ok {
			continue // a follower's, not allocated by the lease holder yet: no answer rather than an empty one
		}
		r := record(e.Name, v)
		if crossmesh.InDomain(e.Name) {
			zc.Global = append(zc.Global, r)
			continue
		}
		// A cross-mesh hostname outside `.mesh` (`api.example.com`) is an override for every
		// mesh's dataplanes: the zone is authoritative for `mesh.` only, and a name outside it
		// in Global would fail the whole zone.
		if zc.Overrides == nil {
			zc.Overrides = map[string][]dns.Record{}
		}
		for _, mesh := range m.Meshes() {
			zc.Overrides[mesh.Name] = append(zc.Overrides[mesh.Name], r)
		}
	}
	for _, s := range table.Services {
		if v, ok := vips[vip.Key{Mesh: s.Mesh, Name: s.Name}]; ok {
			zc.Views[s.Mesh] = append(zc.Views[s.Mesh], record(s.Name, v))
		}
	}
	// ExternalService hosts (docs/kuma-compatibility.md#dns-and-vips) resolve to their VIP for the mesh's dataplanes only: a
	// name outside `.mesh` overrides what upstream resolvers say, one inside is a view name.
	hosts := map[vip.Key]bool{}
	for _, h := range table.Hosts {
		k := vip.Key{Mesh: h.Mesh, Name: h.Host}
		if hosts[k] {
			continue // one host, several ports: one record
		}
		hosts[k] = true
		v, ok := vips[k]
		if !ok {
			continue
		}
		r := record(h.Host, v)
		if crossmesh.InDomain(h.Host) {
			zc.Views[h.Mesh] = append(zc.Views[h.Mesh], r)
			continue
		}
		if zc.Overrides == nil {
			zc.Overrides = map[string][]dns.Record{}
		}
		zc.Overrides[h.Mesh] = append(zc.Overrides[h.Mesh], r)
	}
	n := build.NewNetwork(m, table, problems, vips)
	zone, err := dns.NewZone(zc)
	if err != nil {
		// The VIPs are allocated and stored: dataplanes still get outbounds on them, and DNS
		// keeps its previous zone until the problem is fixed.
		return n, fmt.Errorf("building the DNS zone: %w", err)
	}
	d.server.SetZone(zone)
	d.viewsByAddr.Store(dataplaneViews(m, d.log))
	return n, nil
}

func record(name string, v vip.VIPs) dns.Record {
	r := dns.Record{Name: name}
	if v.V4.IsValid() {
		r.A = []netip.Addr{v.V4}
	}
	if v.V6.IsValid() {
		r.AAAA = []netip.Addr{v.V6}
	}
	return r
}

// dataplaneAddrs is every dataplane's address, in any mesh; unlike the views, an address
// shared by several meshes is still a dataplane's.
func dataplaneAddrs(m *model.Model) []netip.Addr {
	var out []netip.Addr
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			if addr, err := netip.ParseAddr(dp.Spec.Networking.Address); err == nil {
				out = append(out, addr.Unmap())
			}
		}
	}
	return out
}

// dataplaneViews indexes dataplanes by address. An address used in two meshes cannot tell
// them apart; its queries get the default view, and the clash is logged.
func dataplaneViews(m *model.Model, log *slog.Logger) *map[netip.Addr]string {
	views := map[netip.Addr]string{}
	clash := map[netip.Addr]bool{}
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			addr, err := netip.ParseAddr(dp.Spec.Networking.Address)
			if err != nil {
				continue
			}
			addr = addr.Unmap()
			if prev, ok := views[addr]; ok && prev != mesh.Name {
				clash[addr] = true
			}
			views[addr] = mesh.Name
		}
	}
	for addr := range clash {
		delete(views, addr)
		log.Warn("dataplanes of several meshes share an address; DNS answers it with the default view", "address", addr)
	}
	return &views
}

// report logs problems once when they first appear, not on every rebuild, each as
// `Resource: field: message`.
func (d *meshDNS) report(problems []api.FieldError) {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Unlocated()
	}
	sort.Strings(msgs)
	d.mu.Lock()
	defer d.mu.Unlock()
	old := map[string]bool{}
	for _, m := range d.problems {
		old[m] = true
	}
	for _, m := range msgs {
		if !old[m] {
			d.log.Warn("cross-mesh name not published", "problem", m)
		}
	}
	d.problems = msgs
}
