package explain

import (
	"fmt"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// describeCluster fills in how a backend is reached: the cluster's type, its endpoints and the
// TLS it originates.
func (e *explainer) describeCluster(c *clusterv3.Cluster, b *Backend) {
	if ct := c.GetClusterType(); ct != nil {
		b.Type = ct.GetName()
	} else {
		b.Type = c.GetType().String()
	}
	var cla *endpointv3.ClusterLoadAssignment
	switch {
	case c.GetClusterType() != nil:
	case c.GetType() == clusterv3.Cluster_EDS:
		cla = e.loadAssignment(c)
	case c.GetType() != clusterv3.Cluster_ORIGINAL_DST:
		cla = c.GetLoadAssignment()
	}
	b.Addresses = healthyAddresses(cla)
	b.SourceAddress = c.GetUpstreamBindConfig().GetSourceAddress().GetAddress()
	ts := c.GetTransportSocket()
	if !strings.HasSuffix(ts.GetTypedConfig().GetTypeUrl(), ".UpstreamTlsContext") {
		return
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		e.out.note("cluster %q: its TLS context cannot be read: %v", c.GetName(), err)
		return
	}
	common := ctx.GetCommonTlsContext()
	t := &UpstreamTLS{SNI: ctx.GetSni(), ALPN: common.GetAlpnProtocols()}
	for _, s := range common.GetTlsCertificateSdsSecretConfigs() {
		t.Identity = append(t.Identity, s.GetName())
	}
	if len(common.GetTlsCertificates()) > 0 {
		t.Identity = append(t.Identity, "inline")
	}
	if p := common.GetTlsCertificateProviderInstance(); p != nil {
		t.Identity = append(t.Identity, providerPrefix+p.GetInstanceName())
	}
	v, err := e.validation(common)
	if err != nil {
		e.out.note("cluster %q: %v", c.GetName(), err)
	}
	t.Validation = v.secret
	if t.Validation == "" && (v.trustedCA || v.spiffe) {
		t.Validation = "inline"
	}
	if v.provider != "" {
		t.Validation = providerPrefix + v.provider
	}
	t.ServerSANs = v.sans
	t.Verified = t.Validation != ""
	b.TLS = t
}

func healthyAddresses(cla *endpointv3.ClusterLoadAssignment) []string {
	var out []string
	for _, loc := range cla.GetEndpoints() {
		for _, ep := range loc.GetLbEndpoints() {
			if !healthy(ep) {
				continue
			}
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			if sa == nil {
				continue
			}
			host := sa.GetAddress()
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			out = append(out, fmt.Sprintf("%s:%d", host, sa.GetPortValue()))
		}
	}
	return out
}
