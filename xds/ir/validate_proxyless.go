package ir

import (
	"errors"
	"fmt"

	"github.com/meshgate/meshgate/xds/names"
)

// validateProxyless checks the IR of a proxyless dataplane (Proxy.Proxyless): a gRPC
// application whose xDS client takes only what gRPC-Go implements and NACKs much of what Envoy
// takes. Its IR holds:
//
//   - OUTBOUND listeners without address or port: API listeners, named as the application's
//     `xds:///<name>` target, one HTTP chain whose routes forward to EDS clusters;
//   - INBOUND listeners: server listeners, named names.ProxylessInboundListener of the address
//     and port the gRPC server listens on, one HTTP chain without any match, optionally mTLS
//     and RBAC, whose routes are NonForwarding (the server handles the RPC itself);
//   - EDS clusters, optionally mTLS with certificate provider instances and the peer's SPIFFE
//     ID;
//
// and nothing else: no secrets (no SDS), no redirect listeners or original destinations, no
// TCP proxying, no filter chain matches (gRPC cannot select on SNI, ALPN or transport), and
// none of the Envoy-only HTTP features (faults, access logs, compression, XFCC, redirects,
// direct responses, mirrors, rewrites).
func (p *Proxy) validateProxyless() error {
	v := &validator{
		clusters:      map[string]string{},
		secrets:       map[string]string{},
		routeConfigs:  map[string]string{},
		bundles:       map[string]bool{},
		spiffeBundles: map[string]bool{},
		proxyless:     true,
	}
	for i, c := range p.Clusters {
		v.proxylessCluster(fmt.Sprintf("clusters[%d]", i), c)
	}
	later := v.errs
	v.errs = nil
	if len(p.Secrets) > 0 {
		v.add("secrets", "a proxyless dataplane takes no secrets: gRPC reads certificates from its bootstrap's certificate providers, never SDS")
	}
	listeners := map[string]string{}
	addresses := map[string]string{}
	for i, l := range p.Listeners {
		path := fmt.Sprintf("listeners[%d]", i)
		v.unique(listeners, path+".name", l.Name)
		v.proxylessListener(path, l, addresses)
	}
	return errors.Join(append(v.errs, later...)...)
}

func (v *validator) proxylessListener(path string, l Listener, addresses map[string]string) {
	if l.Virtual || l.UseOriginalDst || l.DefaultChain != nil {
		v.add(path, "a proxyless listener is never virtual, a redirect listener or a default chain: gRPC NACKs use_original_dst")
	}
	if l.Protocol != HTTP {
		v.add(path+".protocol", "must be HTTP on a proxyless dataplane (gRPC), got %q", l.Protocol)
	}
	if len(l.FilterChains) != 1 {
		v.add(path+".filterChains", "a proxyless listener has exactly one filter chain, got %d", len(l.FilterChains))
		return
	}
	fc := l.FilterChains[0]
	fcPath := path + ".filterChains[0]"
	v.set(fcPath+".name", fc.Name)
	if len(fc.ServerNames) > 0 || fc.TransportProtocolTLS || len(fc.ApplicationProtocols) > 0 {
		v.add(fcPath, "gRPC cannot match filter chains on server names, transport or ALPN")
	}
	if fc.TCP != nil || fc.HTTP == nil {
		v.add(fcPath+".http", "must be set, and tcp not: gRPC speaks HTTP/2 only")
		return
	}
	h := *fc.HTTP
	v.set(fcPath+".http.statPrefix", h.StatPrefix)
	if len(h.Faults) > 0 || len(h.AccessLogs) > 0 || h.Compression || h.ForwardClientCert || !optionsEmpty(h.Options) || h.StreamIdleTimeout != 0 {
		v.add(fcPath+".http", "faults, access logs, compression, forwardClientCert and connection options are Envoy's; a proxyless dataplane has none")
	}
	v.routeConfig(fcPath+".http.routeConfig", h.RouteConfig)
	switch l.Direction {
	case DirectionOutbound:
		if l.Address != "" || l.Port != 0 {
			v.add(path+".address", "an API listener (outbound of a proxyless dataplane) binds nothing; address and port must be empty")
		}
		if fc.TLS != nil || fc.RBAC != nil {
			v.add(fcPath, "an API listener terminates no connection: no tls, no rbac")
		}
		v.proxylessRoutes(fcPath+".http.routeConfig", h.RouteConfig, false)
	case DirectionInbound, "":
		v.ip(path+".address", l.Address)
		v.port(path+".port", l.Port)
		if l.Address != "" && l.Port != 0 {
			if want := names.ProxylessInboundListener(l.Address, l.Port); l.Name != want {
				v.add(path+".name", "must be %q: gRPC's server asks for the listener of the address it listens on", want)
			}
			if first, ok := addresses[l.Name]; ok {
				v.add(path, "address already used by %s", first)
			} else {
				addresses[l.Name] = path
			}
		}
		if fc.TLS != nil {
			v.proxylessDownstreamTLS(fcPath+".tls", *fc.TLS)
		}
		v.chainRBAC(fcPath, fc)
		v.proxylessRoutes(fcPath+".http.routeConfig", h.RouteConfig, true)
	default:
		v.add(path+".direction", "must be INBOUND or OUTBOUND, got %q", l.Direction)
	}
}

// proxylessRoutes: a server listener's routes hand the RPC to the server (NonForwarding; gRPC
// fails every RPC on a route action), an API listener's forward to clusters, and nothing gRPC
// does not implement.
func (v *validator) proxylessRoutes(path string, rc RouteConfig, server bool) {
	for i, vh := range rc.VirtualHosts {
		if len(vh.ResponseHeadersToAdd) > 0 || vh.RequireTLS {
			v.add(fmt.Sprintf("%s.virtualHosts[%d]", path, i), "header mutations and requireTLS are Envoy's; gRPC ignores them")
		}
		for j, r := range vh.Routes {
			rp := fmt.Sprintf("%s.virtualHosts[%d].routes[%d]", path, i, j)
			if !r.RequestHeaders.IsEmpty() || !r.ResponseHeaders.IsEmpty() || r.Redirect != nil || r.DirectResponse != nil {
				v.add(rp, "gRPC implements neither header mutations, redirects nor direct responses")
			}
			switch {
			case server && !r.NonForwarding:
				v.add(rp+".nonForwarding", "must be set on a server listener: gRPC fails every RPC on a route action")
			case !server && r.NonForwarding:
				v.add(rp+".nonForwarding", "only a server listener's routes leave the request to the application")
			case !server && r.Forward != nil:
				f := r.Forward
				if len(f.Mirrors) > 0 || f.PrefixRewrite != "" || f.FullPathRewrite != "" || f.HostRewrite != "" || f.AutoHostRewrite || f.RateLimit != nil {
					v.add(rp+".forward", "gRPC implements no mirrors, rewrites or local rate limits")
				}
			}
		}
	}
}

func (v *validator) proxylessDownstreamTLS(path string, t DownstreamTLS) {
	if t.IdentitySecret != "" || t.ValidationSecret != "" || len(t.CertificateSecrets) > 0 {
		v.add(path, "a proxyless dataplane's certificates come from certificate providers, not secrets")
	}
	v.set(path+".identityProvider", t.IdentityProvider)
	switch {
	case t.RequireClientCert && t.ValidationProvider == "":
		v.add(path+".validationProvider", "must be set with requireClientCert")
	case !t.RequireClientCert && t.ValidationProvider != "":
		v.add(path+".requireClientCert", "must be set when validationProvider is")
	}
	if t.SANPrefix != "" {
		v.add(path+".sanPrefix", "gRPC NACKs SAN matchers on a server; RBAC decides who may call")
	}
	if len(t.ALPN) > 0 || t.MinVersion != "" {
		v.add(path, "gRPC chooses ALPN and TLS versions itself")
	}
}

func (v *validator) proxylessCluster(path string, c Cluster) {
	v.unique(v.clusters, path+".name", c.Name)
	v.set(path+".service", c.Service)
	if c.Type != ClusterEDS {
		v.add(path+".type", "a proxyless dataplane's clusters are EDS, got %q", c.Type)
	}
	if c.Protocol != ClusterHTTP2 {
		v.add(path+".protocol", "must be http2 (gRPC), got %q", c.Protocol)
	}
	if c.TLS != nil || c.BindAddress != "" {
		v.add(path, "a proxyless cluster has no external TLS and no bind address")
	}
	for i, e := range c.Endpoints {
		p := fmt.Sprintf("%s.endpoints[%d]", path, i)
		v.ip(p+".address", e.Address)
		v.port(p+".port", e.Port)
	}
	v.endpointPriorities(path, c.Endpoints)
	if m := c.MTLS; m != nil {
		p := path + ".mtls"
		if m.IdentitySecret != "" || m.ValidationSecret != "" {
			v.add(p, "a proxyless dataplane's certificates come from certificate providers, not secrets")
		}
		v.set(p+".identityProvider", m.IdentityProvider)
		v.set(p+".validationProvider", m.ValidationProvider)
		v.set(p+".san", m.SAN)
		if len(m.ALPN) > 0 {
			v.add(p+".alpn", "gRPC chooses ALPN itself")
		}
	}
	if c.CircuitBreaker != nil || len(c.HealthChecks) > 0 || c.Timeouts != nil || c.ConnectTimeout != 0 {
		v.add(path, "connection policies are not translated for gRPC; a proxyless cluster carries none")
	}
}
