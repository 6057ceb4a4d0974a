package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
)

// filterChain translates fc, placing the listener-wide filters pre before its own. For an HTTP
// chain it also returns the route configuration the connection manager loads over RDS.
func filterChain(fc ir.FilterChain, pre []*listenerv3.Filter) (*listenerv3.FilterChain, *routev3.RouteConfiguration, error) {
	out := &listenerv3.FilterChain{Name: fc.Name}
	// Each chain gets its own copy so no two resources share a mutable message.
	for _, f := range pre {
		out.Filters = append(out.Filters, proto.Clone(f).(*listenerv3.Filter))
	}
	// RBAC follows the listener-wide filters and precedes the connection manager or TCP proxy,
	// so it decides on the verified client certificate before any byte is proxied.
	if fc.RBAC != nil {
		f, err := rbacFilter(*fc.RBAC)
		if err != nil {
			return nil, nil, err
		}
		out.Filters = append(out.Filters, f)
	}
	if len(fc.ServerNames) > 0 || fc.TransportProtocolTLS || len(fc.ApplicationProtocols) > 0 {
		out.FilterChainMatch = &listenerv3.FilterChainMatch{
			ServerNames:          append([]string(nil), fc.ServerNames...),
			ApplicationProtocols: append([]string(nil), fc.ApplicationProtocols...),
		}
		if fc.TransportProtocolTLS {
			out.FilterChainMatch.TransportProtocol = "tls"
		}
	}
	if fc.TLS != nil {
		ts, err := downstreamTLS(*fc.TLS)
		if err != nil {
			return nil, nil, err
		}
		out.TransportSocket = ts
	}
	var rc *routev3.RouteConfiguration
	var filter *listenerv3.Filter
	var err error
	switch {
	case fc.HTTP != nil:
		if filter, err = hcmFilter(*fc.HTTP); err == nil {
			rc, err = routeConfig(fc.HTTP.RouteConfig)
		}
	case fc.TCP != nil:
		filter, err = tcpProxyFilter(*fc.TCP)
		// The TCP proxy has no metadata of its own; its chain records the policy decisions.
		out.Metadata = setPolicyDecisions(nil, fc.TCP.Policies)
	}
	if err != nil {
		return nil, nil, err
	}
	if filter != nil {
		out.Filters = append(out.Filters, filter)
	}
	return out, rc, nil
}

func downstreamTLS(t ir.DownstreamTLS) (*corev3.TransportSocket, error) {
	minVersion := tlsv3.TlsParameters_TLSv1_2
	if t.MinVersion != "" {
		// IR validation admits only the enum's names, so the lookup cannot miss.
		minVersion = tlsv3.TlsParameters_TlsProtocol(tlsv3.TlsParameters_TlsProtocol_value[t.MinVersion])
	}
	common := &tlsv3.CommonTlsContext{
		AlpnProtocols: append([]string(nil), t.ALPN...),
		TlsParams:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: minVersion},
	}
	for _, name := range t.CertificateSecrets {
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs, sdsSecret(name))
	}
	if t.IdentitySecret != "" {
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs, sdsSecret(t.IdentitySecret))
	}
	switch {
	case t.ValidationSecret != "" && t.SANPrefix != "":
		common.ValidationContextType = meshBundleValidation(t.ValidationSecret, t.SANPrefix)
	case t.ValidationSecret != "":
		// A SPIFFE validator secret: the whole validation context comes over SDS, so a CA
		// rotation updates the secret and leaves the listener alone.
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
			ValidationContextSdsSecretConfig: sdsSecret(t.ValidationSecret),
		}
	}
	return tlsSocket(&tlsv3.DownstreamTlsContext{
		CommonTlsContext:         common,
		RequireClientCertificate: wrapperspb.Bool(t.RequireClientCert),
	})
}

func tcpProxyFilter(t ir.TCPProxy) (*listenerv3.Filter, error) {
	logs, err := accessLogs(t.AccessLogs, defaultTCPAccessLogFormat)
	if err != nil {
		return nil, err
	}
	cfg := &tcpproxyv3.TcpProxy{
		StatPrefix: t.StatPrefix,
		AccessLog:  logs,
		// Retry policy (TCP): connection attempts; Timeout policy: idle connections. Zero keeps
		// Envoy's defaults (one attempt, one hour).
		MaxConnectAttempts: optionalUInt32(t.MaxConnectAttempts),
		IdleTimeout:        duration(t.IdleTimeout),
	}
	if len(t.Clusters) == 1 {
		cfg.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: t.Clusters[0].Name}
	} else {
		wc := &tcpproxyv3.TcpProxy_WeightedCluster{}
		for _, c := range t.Clusters {
			wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: c.Name, Weight: c.Weight})
		}
		cfg.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: wellknown.TCPProxy, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}, nil
}
