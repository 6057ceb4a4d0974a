package build

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// cluster returns the name of the cluster for a destination, creating it on first use. A
// destination used by both HTTP and TCP routes gets one cluster; HTTP protocol options are
// harmless to tcp_proxy, so HTTP wins. Listeners whose tags select different connection
// policies for one destination get one cluster each: the first keeps the plain name, the others
// are named after their policies (`api[timeout-b]`), as Kuma keeps one cluster per policy set.
func (b *builder) cluster(dest map[string]string, proto ir.ClusterProtocol, listenerTags map[string]string) string {
	if es := b.externalService(dest[api.ServiceTag]); es != nil {
		return b.externalCluster(es, listenerTags)
	}
	picks := b.clusterPicks(dest, listenerTags)
	name := b.clusterName(names.Cluster(dest), picks)
	if c, ok := b.clusters[name]; ok {
		if c.Protocol == ir.ClusterTCP && proto != ir.ClusterTCP {
			c.Protocol = clusterProtocol(dest, proto)
		}
		return name
	}
	c := &ir.Cluster{
		Name:        name,
		Service:     dest[api.ServiceTag],
		Destination: dest,
		Protocol:    clusterProtocol(dest, proto),
		Endpoints:   b.withRemote(b.endpoints(dest), dest),
	}
	if b.mesh.MTLSEnabled() {
		c.MTLS = b.upstreamMTLS(dest)
	}
	applyClusterPicks(c, picks)
	b.clusters[name] = c
	return name
}

// clusterName is the destination's cluster name for these policy picks: the plain name, or a
// variant when a cluster of that name already exists with other policies.
func (b *builder) clusterName(base string, picks []*policyPick) string {
	if c, ok := b.clusters[base]; ok && policySignature(c.Policies) != picksSignature(picks) {
		return variantName(base, picks)
	}
	return base
}

// clusterProtocol follows Kuma: the destination's `kuma.io/protocol` tag decides HTTP/2; routes
// of HTTP listeners are HTTP/1 otherwise.
func clusterProtocol(dest map[string]string, routeProto ir.ClusterProtocol) ir.ClusterProtocol {
	if routeProto == ir.ClusterTCP {
		return ir.ClusterTCP
	}
	switch dest[api.ProtocolTag] {
	case "http2", "grpc":
		return ir.ClusterHTTP2
	}
	return ir.ClusterHTTP
}

// endpoints are the ready inbounds of the destination's service, in the builder's mesh, whose
// tags include every destination tag (so subset tags like `version: v1` pick a subset).
func (b *builder) endpoints(dest map[string]string) []ir.Endpoint {
	svc := b.network.services(b.mesh.Name).byName[dest[api.ServiceTag]]
	if svc == nil {
		return nil
	}
	var out []ir.Endpoint
	for _, e := range svc.Endpoints {
		if !model.SelectorMatches(dest, e.Tags) {
			continue
		}
		if e.Bad {
			b.diag(&e.Owner.Meta, "networking.address", "endpoint address %q is not an IP address; not used as an endpoint of %s", e.Address, names.Cluster(dest))
			continue
		}
		out = append(out, e.Endpoint)
	}
	return out
}

func (b *builder) upstreamMTLS(dest map[string]string) *ir.UpstreamMTLS {
	svc := dest[api.ServiceTag]
	m := &ir.UpstreamMTLS{
		IdentitySecret:   names.IdentitySecret(b.mesh.Name),
		ValidationSecret: names.MeshCASecret(b.mesh.Name),
		SNI:              names.UpstreamSNI(b.mesh.Name, dest),
		ALPN:             []string{names.MeshALPN},
	}
	if id, err := names.ServiceID(b.mesh.Name, svc); err == nil {
		m.SAN = id.String()
	} else {
		b.diag(&b.dp.Meta, "networking", "cannot verify upstream %q: %v", svc, err)
	}
	return m
}
