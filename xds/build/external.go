package build

import (
	"net"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// externalService is an ExternalService of the builder's mesh, as a destination.
type externalService struct {
	res      *api.ExternalService
	service  string
	protocol string
}

// externalService returns the ExternalService whose `kuma.io/service` is svc, or nil. With
// several, the first by name wins, as they would share one cluster name.
func (b *builder) externalService(svc string) *externalService {
	es := b.network.services(b.mesh.Name).external[svc]
	if es == nil || !b.externalPermitted(es) {
		return nil
	}
	return &externalService{res: es, service: svc, protocol: es.Protocol()}
}

// externalPermitted applies TrafficPermission to an external service. Its own sidecar cannot
// check the caller, so in an mTLS mesh the caller does, as Kuma does without an egress: only a
// permission whose sources select this dataplane and whose destinations match the service's
// tags lets it reach the service. A refused service is reported once and then looks like a
// mesh service without endpoints (Envoy answers 503).
func (b *builder) externalPermitted(es *api.ExternalService) bool {
	if !b.mesh.MTLSEnabled() {
		return true
	}
	for _, tp := range model.PoliciesOf[*api.TrafficPermission](b.mesh, api.KindTrafficPermission) {
		if _, ok := model.BestMatch(tp.DestinationSelectors(), es.Spec.Tags); !ok {
			continue
		}
		if _, ok := b.sourceRank(tp.SourceSelectors()); ok {
			return true
		}
	}
	if b.deniedExternal == nil {
		b.deniedExternal = map[string]bool{}
	}
	if !b.deniedExternal[es.Name] {
		b.deniedExternal[es.Name] = true
		b.diag(&es.Meta, "tags", "no TrafficPermission lets %s reach external service %q; it gets no endpoints", b.dp.DisplayName(), es.Service())
	}
	return false
}

// externalOutbounds are the VIP listeners of every external service: its `<service>.mesh`
// VIP on port 80 and on the service's own port, and its host's VIP (docs/kuma-compatibility.md#dns-and-vips host entries)
// on the service's port and port 80, as Kuma publishes them. All lead to the one external
// cluster, so `http://httpbin.org:443/` from the application leaves the sidecar with TLS.
func (b *builder) externalOutbounds() []outbound {
	var outs []outbound
	for _, es := range b.network.services(b.mesh.Name).externals {
		svc := es.Service()
		if !b.externalPermitted(es) {
			continue
		}
		ext := &externalService{res: es, service: svc, protocol: es.Protocol()}
		if v, ok := b.network.serviceVIP(b.mesh.Name, svc); ok {
			ports := []uint32{serviceVIPPort}
			if p := es.Port(); p != 0 && p != serviceVIPPort {
				ports = append(ports, p)
			}
			for _, p := range ports {
				outs = append(outs, outbound{field: "networking.transparentProxying", virtual: true, addr: v.String(), port: p, external: ext})
			}
		}
		for _, h := range b.network.hostOutbounds[b.mesh.Name][svc] {
			for _, p := range h.Ports {
				outs = append(outs, outbound{field: "networking.transparentProxying", virtual: true, addr: h.VIP.String(), port: p, external: ext})
			}
		}
		// An address that is an IP needs no DNS entry: the application connects to it directly,
		// and the listener on that IP and port takes the connection (Kuma's entry without a VIP),
		// so TLS origination and the access log still apply.
		if ip := net.ParseIP(es.Host()); ip != nil && es.Port() != 0 && !es.Spec.Networking.DisableHostDNSEntry {
			outs = append(outs, outbound{field: "networking.transparentProxying", virtual: true, addr: ip.String(), port: es.Port(), external: ext})
		}
	}
	return outs
}

// externalCluster is the cluster of an external service: Envoy resolves its host (STRICT_DNS)
// and, with tls.enabled, originates TLS with the service's SNI and CA.
func (b *builder) externalCluster(es *externalService, listenerTags map[string]string) string {
	dest := map[string]string{api.ServiceTag: es.service}
	picks := b.clusterPicks(dest, listenerTags)
	name := b.clusterName(names.Cluster(dest), picks)
	if _, ok := b.clusters[name]; ok {
		return name
	}
	r := es.res
	c := &ir.Cluster{
		Name: name, Type: ir.ClusterStrictDNS, Service: es.service,
		Destination: dest,
		Protocol:    ir.ClusterTCP,
		Endpoints:   []ir.Endpoint{{Address: r.Host(), Port: r.Port(), Weight: 1, Tags: r.Spec.Tags}},
	}
	if ip := net.ParseIP(r.Host()); ip != nil {
		c.Type = ir.ClusterStatic
	}
	switch es.protocol {
	case "http":
		c.Protocol = ir.ClusterHTTP
	case "http2", "grpc":
		c.Protocol = ir.ClusterHTTP2
	}
	if r.TLSEnabled() {
		c.TLS = b.externalTLS(r)
	}
	applyClusterPicks(c, picks)
	b.clusters[name] = c
	return name
}

func (b *builder) externalTLS(r *api.ExternalService) *ir.UpstreamTLS {
	t := r.Spec.Networking.TLS
	out := &ir.UpstreamTLS{SNI: r.ServerName()}
	if net.ParseIP(out.SNI) != nil {
		out.SNI = "" // SNI carries names only
	}
	if t.CACert != nil {
		ca, err := b.dataSource(*t.CACert)
		if err != nil {
			b.diag(&r.Meta, "networking.tls.caCert", "%v; the service is reached without verifying its certificate", err)
			out.AllowInsecure = true
		} else {
			out.CA = string(ca)
			if !t.SkipHostnameVerification {
				out.VerifySAN = r.ServerName()
			}
		}
	} else {
		// Kuma's behaviour without caCert: encrypted, not authenticated. explain says so.
		out.AllowInsecure = true
	}
	if t.ClientCert != nil && t.ClientKey != nil {
		cert, err1 := b.dataSource(*t.ClientCert)
		key, err2 := b.dataSource(*t.ClientKey)
		if err1 != nil || err2 != nil {
			b.diag(&r.Meta, "networking.tls.clientCert", "client certificate not loaded; none is presented")
		} else {
			out.ClientCertificate, out.ClientKey = string(cert), string(key)
		}
	}
	return out
}
