package build

import (
	"regexp"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// anyMesh marks a source whose callers may come from any mesh the listener trusts.
const anyMesh = ""

// inboundRBAC admits the callers of every TrafficPermission whose destinations select the
// inbound's tags. With none, nobody is admitted: mTLS meshes deny by default, as in Kuma 2.x,
// and meshgate adds no permission of its own (an allow-all one is the operator's choice, made
// visibly). A source without `kuma.io/mesh` means this mesh: only this mesh's CA is trusted here.
func (b *builder) inboundRBAC(listener string, tags map[string]string) *ir.RBAC {
	return b.rbacFor(listener, tags, b.mesh.Name, nil)
}

// crossMeshRBAC is the same for a cross-mesh listener: the permissions whose destinations
// select the gateway. There a source without `kuma.io/mesh` means any trusted mesh, so an
// allow-all permission lets every mTLS mesh call, as in Kuma.
//
// The listener trusts every mTLS mesh's CA, and Envoy checks a certificate against the bundle
// of its first URI SAN only, while RBAC matches any URI SAN. So each principal names one mesh
// and excludes the SPIFFE IDs of every other trusted mesh: mesh B's CA cannot admit a caller by
// adding `spiffe://A/checkout` after its own ID.
func (b *builder) crossMeshRBAC(listener string) *ir.RBAC {
	return b.rbacFor(listener, b.dp.Spec.Networking.Gateway.Tags, anyMesh, b.trustedMeshes())
}

// trustedMeshes are the meshes whose CAs a cross-mesh listener trusts: every mTLS mesh.
func (b *builder) trustedMeshes() []string {
	var out []string
	for _, m := range b.model.Meshes() {
		if m.MTLSEnabled() {
			out = append(out, m.Name)
		}
	}
	return out
}

// confined returns the principals of one source on a listener trusting several meshes: one per
// mesh the source can come from, each excluding every other trusted mesh's SPIFFE IDs.
func confined(src map[string]string, trusted []string) []ir.Principal {
	meshes := trusted
	if m, ok := src[api.MeshTag]; ok && m != "*" {
		meshes = []string{m}
	}
	var out []ir.Principal
	for _, m := range meshes {
		p := principal(src, m)
		for _, other := range trusted {
			if other != m {
				p.NotURIs = append(p.NotURIs, ir.SANMatch{Kind: ir.SANPrefix, Value: names.MeshIDPrefix(other)})
			}
		}
		out = append(out, p)
	}
	return out
}

// rbacFor builds the RBAC of the permissions whose destinations select tags. Without trusted
// meshes (a sidecar inbound) a source's mesh defaults to defaultMesh; with them (a cross-mesh
// listener) each source is confined to one trust domain.
func (b *builder) rbacFor(listener string, tags map[string]string, defaultMesh string, trusted []string) *ir.RBAC {
	r := &ir.RBAC{StatPrefix: names.RBACStatPrefix(listener)}
	for _, tp := range model.PoliciesOf[*api.TrafficPermission](b.mesh, api.KindTrafficPermission) {
		if _, ok := model.BestMatch(tp.DestinationSelectors(), tags); !ok {
			continue
		}
		p := ir.RBACPolicy{Name: tp.Name}
		for _, src := range tp.SourceSelectors() {
			if trusted != nil {
				p.Principals = append(p.Principals, confined(src, trusted)...)
			} else {
				p.Principals = append(p.Principals, principal(src, defaultMesh))
			}
		}
		if len(p.Principals) > 0 {
			r.Policies = append(r.Policies, p)
		}
	}
	return r
}

// principal turns a source selector into matchers on the caller's certificate: its SPIFFE ID
// (`spiffe://<mesh>/<service>`) for `kuma.io/mesh` and `kuma.io/service`, and the
// `kuma://<tag>/<value>` URIs the CA writes for every other tag. A `*` value only requires the
// tag.
func principal(src map[string]string, defaultMesh string) ir.Principal {
	mesh, ok := src[api.MeshTag]
	if !ok || mesh == "*" {
		mesh = defaultMesh
	}
	svc, ok := src[api.ServiceTag]
	if !ok {
		svc = "*"
	}
	var p ir.Principal
	switch {
	case mesh == anyMesh && svc == "*":
		p.URIs = append(p.URIs, ir.SANMatch{Kind: ir.SANPrefix, Value: certs.SPIFFEScheme + "://"})
	case mesh == anyMesh:
		p.URIs = append(p.URIs, ir.SANMatch{Kind: ir.SANRegex, Value: "^" + regexp.QuoteMeta(certs.SPIFFEScheme+"://") + "[^/]+/" + regexp.QuoteMeta(svc) + "$"})
	case svc == "*":
		p.URIs = append(p.URIs, ir.SANMatch{Kind: ir.SANPrefix, Value: names.MeshIDPrefix(mesh)})
	default:
		p.URIs = append(p.URIs, ir.SANMatch{Kind: ir.SANExact, Value: names.MeshIDPrefix(mesh) + svc})
	}
	keys := make([]string, 0, len(src))
	for k := range src {
		if k != api.MeshTag && k != api.ServiceTag {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := src[k]; v == "*" {
			p.URIs = append(p.URIs, ir.SANMatch{Kind: ir.SANPrefix, Value: certs.KumaScheme + "://" + k + "/"})
		} else {
			p.URIs = append(p.URIs, ir.SANMatch{Kind: ir.SANExact, Value: certs.KumaScheme + "://" + k + "/" + v})
		}
	}
	return p
}
