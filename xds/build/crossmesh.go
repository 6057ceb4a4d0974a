package build

import (
	"fmt"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// kumaALPN is what mesh clients offer when they dial another mesh's service; matching on it
// keeps plain TLS clients from reaching the cross-mesh chain.
const kumaALPN = "kuma"

// crossMeshChain builds the one filter chain of a cross-mesh listener (docs/kuma-compatibility.md#cross-mesh-listener, with the
// merged bundle replaced by per-mesh SPIFFE validation). The gateway presents its mesh
// identity and accepts a client of any mTLS mesh whose certificate chains to that mesh's own
// CA.
//
// Authorization is the gateway mesh's TrafficPermissions whose destinations select the
// gateway, enforced on the caller's SPIFFE ID (crossMeshRBAC); Kuma authorizes nothing here.
func (b *builder) crossMeshChain(listener string, p *port) (ir.FilterChain, bool) {
	field := fmt.Sprintf("conf.listeners[%d].crossMesh", p.hosts[0].index)
	for _, h := range p.hosts {
		// API validation rejects these; the builder must not trust that a stored resource
		// went through it.
		if !h.spec.CrossMesh || (p.protocol != api.ProtocolHTTP && p.protocol != api.ProtocolTCP) {
			b.diag(&b.gateway.Meta, field, "a cross-mesh port must have only HTTP or only TCP cross-mesh listeners; listener %s skipped", listener)
			return ir.FilterChain{}, false
		}
	}
	if !b.mesh.MTLSEnabled() {
		b.diag(&b.gateway.Meta, field, "mTLS must be enabled in mesh %q for cross-mesh listeners; listener %s skipped", b.mesh.Name, listener)
		return ir.FilterChain{}, false
	}
	// A listener whose name another gateway claimed first is an error on this gateway, as
	// `meshgate validate` says; the first claim keeps working.
	if ok, problems := b.portExposed(p); !ok {
		for _, pr := range problems {
			b.diag(&b.gateway.Meta, pr.Field, "%s; listener %s skipped", pr.Message, listener)
		}
		if len(problems) == 0 {
			b.diag(&b.gateway.Meta, field, "not published as a cross-mesh name; listener %s skipped", listener)
		}
		return ir.FilterChain{}, false
	}
	// The validator secret holds every mTLS mesh's bundle; it needs the CAs, so an offline
	// render names it without content, as it does the identity.
	if domains := b.trustDomains(); b.identity != nil && len(domains) > 0 {
		b.secrets[names.CrossMeshValidationSecret] = ir.Secret{Name: names.CrossMeshValidationSecret, SPIFFETrustDomains: domains}
	}
	// The caller is the verified peer, not this gateway: access logs name its SPIFFE ID.
	b.peerIsCaller = true
	defer func() { b.peerIsCaller = false }()
	var fc ir.FilterChain
	if p.protocol == api.ProtocolTCP {
		// The MeshGatewayRoutes' tcp rules choose the backends, weights included, as on a
		// plain TCP listener; the mTLS tunnel carries any protocol (PostgreSQL, Kafka, …).
		var ok bool
		if fc, ok = b.tcpChain(listener, "*", p.hosts); !ok {
			b.diag(&b.gateway.Meta, field, "no MeshGatewayRoute with tcp rules selects cross-mesh TCP listener %s; it is not configured", listener)
			return ir.FilterChain{}, false
		}
	} else {
		// Virtual hosts exactly as on a plain HTTP listener: require_tls would be redundant,
		// since the chain accepts only TLS. The connection manager detects HTTP/2 (gRPC) as
		// well as HTTP/1.1 inside the tunnel, so a consumer's HTTP/2 stays HTTP/2 end to end.
		fc = b.httpChain(listener, "*", p.hosts, nil)
		fc.HTTP.ForwardClientCert = true
	}
	fc.TransportProtocolTLS = true
	fc.ApplicationProtocols = []string{kumaALPN}
	fc.TLS = &ir.DownstreamTLS{
		IdentitySecret:    names.IdentitySecret(b.mesh.Name),
		ALPN:              []string{kumaALPN},
		RequireClientCert: true,
		ValidationSecret:  names.CrossMeshValidationSecret,
	}
	fc.RBAC = b.crossMeshRBAC(listener)
	return fc, true
}

// trustDomains are the bundles of the meshes that currently have mTLS: a bundle left over for
// a mesh that was deleted or turned mTLS off must not keep its workloads trusted. The gateway's
// own mesh is always trusted, with the bundle its identity came with if none was given.
func (b *builder) trustDomains() map[string]string {
	out := map[string]string{}
	for mesh, pem := range b.bundles {
		if ms := b.model.Mesh(mesh); ms != nil && ms.MTLSEnabled() && pem != "" {
			out[mesh] = pem
		}
	}
	if _, ok := out[b.mesh.Name]; !ok && b.identity != nil && b.identity.TrustBundle != "" {
		out[b.mesh.Name] = b.identity.TrustBundle
	}
	return out
}

// portExposed reports whether any cross-mesh listener of the port is published.
func (b *builder) portExposed(p *port) (bool, []api.FieldError) {
	var problems []api.FieldError
	for _, h := range p.hosts {
		ok, ps := b.network.exposed(b.mesh.Name, b.gateway.Name, h.index, b.gateway.DisplayName())
		if ok {
			return true, nil
		}
		problems = ps
	}
	return false, problems
}
