package build

import (
	"fmt"
	"net"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// proxyless builds a gRPC application that is its own data plane (api.ProxyTypeProxyless): a
// server listener per inbound, an API listener per explicit outbound, EDS clusters, and no
// secrets, since gRPC takes its certificates from the providers of its bootstrap. What gRPC
// cannot do (TCP, filter chain matches, plain-text fallback) is left out with a diagnostic;
// ir.Proxy's validateProxyless lists what the IR may hold.
func (b *builder) proxyless() {
	b.proxy.Proxyless = true
	if net.ParseIP(b.dp.Spec.Networking.Address) == nil {
		b.diag(&b.dp.Meta, "networking.address", "a proxyless server listens on this address, so it must be an IP address, not %q", b.dp.Spec.Networking.Address)
		return
	}
	b.proxylessInbounds()
	b.proxylessOutbounds()
}

// proxylessInbounds: one server listener per inbound, on the address and port the gRPC server
// listens on (gRPC asks for exactly that listener). In an mTLS mesh it presents the SVID,
// requires a client certificate and admits the callers TrafficPermission allows; a source with
// `kuma.io/mesh: B` admits mesh B's callers, which the server's SPIFFE bundle map verifies
// against B's own CA. Its route leaves every RPC to the application.
func (b *builder) proxylessInbounds() {
	if b.mesh.MTLSEnabled() && b.mesh.Resource.Spec.MTLSPermissive() {
		b.diag(&b.mesh.Resource.Meta, "mtls.mode", "a proxyless (gRPC) server cannot take plain text next to mTLS: %s accepts mTLS only", b.dp.DisplayName())
	}
	seen := map[string]bool{}
	for i, in := range b.dp.Spec.Networking.Inbound {
		field := fmt.Sprintf("networking.inbound[%d]", i)
		addr := in.Address
		if addr == "" {
			addr = b.dp.Spec.Networking.Address
		}
		if net.ParseIP(addr) == nil {
			b.diag(&b.dp.Meta, field+".address", "must be an IP address, not %q; inbound skipped", addr)
			continue
		}
		if in.Port == api.ServicelessPort {
			continue
		}
		switch p := in.Tags[api.ProtocolTag]; p {
		case "", "grpc", "http2":
		default:
			b.diag(&b.dp.Meta, fmt.Sprintf("%s.tags[%q]", field, api.ProtocolTag), "a proxyless dataplane serves gRPC, not %q; inbound skipped", p)
			continue
		}
		name := names.ProxylessInboundListener(addr, in.Port)
		if seen[name] {
			continue
		}
		seen[name] = true
		svc := in.Tags[api.ServiceTag]
		rc := names.InboundRouteConfig(svc)
		if seen[rc] {
			rc = names.InboundRouteConfigOnPort(svc, in.Port)
		}
		seen[rc] = true
		fc := ir.FilterChain{Name: name, HTTP: &ir.HTTPConnectionManager{
			StatPrefix: svc,
			RouteConfig: ir.RouteConfig{Name: rc, VirtualHosts: []ir.VirtualHost{{
				Name: svc, Domains: []string{"*"},
				Routes: []ir.Route{{
					Name:          names.InboundRoute,
					Match:         ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
					NonForwarding: true,
				}},
			}}},
		}}
		if b.mesh.MTLSEnabled() {
			fc.TLS = &ir.DownstreamTLS{
				IdentityProvider:   names.ProxylessIdentityProvider,
				ValidationProvider: names.ProxylessTrustProvider,
				RequireClientCert:  true,
			}
			fc.RBAC = b.inboundRBAC(name, in.Tags)
		}
		b.proxy.Listeners = append(b.proxy.Listeners, ir.Listener{
			Name: name, Address: addr, Port: in.Port, Protocol: ir.HTTP, StatPrefix: svc,
			Direction: ir.DirectionInbound, FilterChains: []ir.FilterChain{fc},
		})
	}
}

// proxylessOutbounds: one API listener per explicit outbound, named as the application dials
// it (`xds:///backend.mesh:8080`). `kuma.io/mesh: A` names a service of mesh A, reached
// directly over mTLS: gRPC cannot be a gateway, so no cross-mesh gateway is involved, and mesh
// A's server admits the caller by its own TrafficPermissions.
func (b *builder) proxylessOutbounds() {
	for i, o := range b.dp.Spec.Networking.Outbound {
		field := fmt.Sprintf("networking.outbound[%d]", i)
		svc := o.Tags[api.ServiceTag]
		if svc == "" {
			b.diag(&b.dp.Meta, field+".tags", "%s is required; outbound skipped", api.ServiceTag)
			continue
		}
		mesh := b.mesh
		if m, ok := o.Tags[api.MeshTag]; ok && m != b.mesh.Name {
			if mesh = b.model.Mesh(m); mesh == nil {
				b.diag(&b.dp.Meta, field+".tags", "mesh %q does not exist; outbound skipped", m)
				continue
			}
			if !mesh.MTLSEnabled() || !b.mesh.MTLSEnabled() {
				b.diag(&b.dp.Meta, field+".tags", "calling mesh %q from mesh %q needs mTLS in both; outbound skipped", m, b.mesh.Name)
				continue
			}
		}
		name := names.ProxylessOutboundListener(b.mesh.Name, mesh.Name, svc, o.Port)
		if b.hasListener(name) {
			b.diag(&b.dp.Meta, field, "%s is already an outbound; skipped", name)
			continue
		}
		dest := map[string]string{}
		for k, v := range o.Tags {
			if k != api.MeshTag {
				dest[k] = v
			}
		}
		cluster, ok := b.proxylessCluster(field, mesh, dest)
		if !ok {
			continue
		}
		b.proxy.Listeners = append(b.proxy.Listeners, ir.Listener{
			Name: name, Protocol: ir.HTTP, StatPrefix: svc, Direction: ir.DirectionOutbound,
			FilterChains: []ir.FilterChain{{Name: name, HTTP: &ir.HTTPConnectionManager{
				StatPrefix: svc,
				RouteConfig: ir.RouteConfig{Name: name, VirtualHosts: []ir.VirtualHost{{
					Name: svc, Domains: []string{"*"},
					Routes: []ir.Route{{
						Name:    names.OutboundRoute,
						Match:   ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
						Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: cluster, Weight: 1}}},
					}},
				}}},
			}}},
		})
	}
}

func (b *builder) hasListener(name string) bool {
	for _, l := range b.proxy.Listeners {
		if l.Name == name {
			return true
		}
	}
	return false
}

// proxylessCluster is the EDS cluster of dest in mesh: the ready inbounds of that mesh's
// service whose tags include dest's, and in an mTLS mesh the SPIFFE ID the server must present.
func (b *builder) proxylessCluster(field string, mesh *model.Mesh, dest map[string]string) (string, bool) {
	svc := dest[api.ServiceTag]
	name := names.Cluster(dest)
	if mesh.Name != b.mesh.Name {
		name = names.CrossMeshCluster(dest, mesh.Name)
	}
	if _, ok := b.clusters[name]; ok {
		return name, true
	}
	c := &ir.Cluster{Name: name, Service: svc, Destination: dest, Protocol: ir.ClusterHTTP2}
	if mesh.Name != b.mesh.Name {
		c.Mesh = mesh.Name
	}
	if s := b.network.services(mesh.Name).byName[svc]; s != nil {
		for _, e := range s.Endpoints {
			if !model.SelectorMatches(dest, e.Tags) {
				continue
			}
			if e.Bad {
				b.diag(&e.Owner.Meta, "networking.address", "endpoint address %q is not an IP address; not used as an endpoint of %s", e.Address, name)
				continue
			}
			c.Endpoints = append(c.Endpoints, e.Endpoint)
		}
	} else {
		// Kept: the service may come up later; until then gRPC fails the RPCs as unavailable.
		b.diag(&b.dp.Meta, field+".tags", "no dataplane of mesh %q serves %q yet", mesh.Name, svc)
	}
	if mesh.MTLSEnabled() {
		id, err := names.ServiceID(mesh.Name, svc)
		if err != nil {
			b.diag(&b.dp.Meta, field+".tags", "cannot verify upstream %q: %v; outbound skipped", svc, err)
			return "", false
		}
		c.MTLS = &ir.UpstreamMTLS{
			IdentityProvider:   names.ProxylessIdentityProvider,
			ValidationProvider: names.ProxylessTrustProvider,
			SAN:                id.String(),
		}
	}
	b.clusters[name] = c
	return name, true
}
