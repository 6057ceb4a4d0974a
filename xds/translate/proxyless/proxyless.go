// Package proxyless turns the IR of a proxyless dataplane (ir.Proxy.Proxyless: a gRPC
// application with gRPC-Go's own xDS client and server) into the xDS resources gRPC takes. Like
// xds/translate it sees only the IR and is a pure function of it; names come from the IR,
// which took them from xds/names.
//
// What gRPC-Go (v1.85) reads, and so all this emits:
//   - an API listener per outbound, named as the application's `xds:///<name>` target, whose
//     connection manager carries its route configuration inline (routes forward to EDS
//     clusters; only the router filter);
//   - a server listener per inbound at the address and port the server listens on, one filter
//     chain without a match, an RDS route configuration whose routes are non_forwarding_action,
//     and before the router an HTTP RBAC filter with TrafficPermission's SPIFFE principals;
//   - EDS clusters and their assignments, every locality with a weight (gRPC drops localities
//     without one);
//   - TLS that names certificate provider instances of the bootstrap (names.ProxylessIdentity-
//     Provider, names.ProxylessTrustProvider) and never SDS, with the server's SPIFFE ID in
//     match_subject_alt_names on the client side; no listener_filters, use_original_dst or
//     filter chain matches, which gRPC NACKs or cannot evaluate.
package proxyless

import (
	"errors"
	"fmt"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/translate"
)

// Translate validates p, which must be proxyless, and returns its gRPC resources, each type
// sorted by name.
func Translate(p *ir.Proxy) (*envoyres.Resources, error) {
	if p == nil {
		return nil, errors.New("proxyless: nil proxy")
	}
	if !p.Proxyless {
		return nil, fmt.Errorf("proxy %q: not proxyless; xds/translate serves Envoy", p.Node)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("proxy %q: %w", p.Node, err)
	}
	out := &envoyres.Resources{}
	var errs []error
	for _, l := range p.Listeners {
		var (
			lis *listenerv3.Listener
			rc  *routev3.RouteConfiguration
			err error
		)
		if l.Direction == ir.DirectionOutbound {
			lis, err = apiListener(l)
		} else {
			lis, rc, err = serverListener(l)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", l.Name, err))
			continue
		}
		out.Listeners = append(out.Listeners, lis)
		if rc != nil {
			out.Routes = append(out.Routes, rc)
		}
	}
	for _, c := range p.Clusters {
		cl, err := cluster(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("cluster %q: %w", c.Name, err))
			continue
		}
		out.Clusters = append(out.Clusters, cl)
		out.Endpoints = append(out.Endpoints, loadAssignment(c))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out.Listeners, func(i, j int) bool { return out.Listeners[i].Name < out.Listeners[j].Name })
	sort.Slice(out.Routes, func(i, j int) bool { return out.Routes[i].Name < out.Routes[j].Name })
	sort.Slice(out.Clusters, func(i, j int) bool { return out.Clusters[i].Name < out.Clusters[j].Name })
	sort.Slice(out.Endpoints, func(i, j int) bool { return out.Endpoints[i].ClusterName < out.Endpoints[j].ClusterName })
	return out, nil
}

// apiListener is what gRPC's resolver asks for when the application dials `xds:///<name>`.
// The routes are inline: nothing but this listener refers to them.
func apiListener(l ir.Listener) (*listenerv3.Listener, error) {
	h := l.FilterChains[0].HTTP
	rc, err := routeConfig(h.RouteConfig)
	if err != nil {
		return nil, err
	}
	m, err := hcm(h.StatPrefix, nil)
	if err != nil {
		return nil, err
	}
	m.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: rc}
	a, err := toAny(m)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{Name: l.Name, ApiListener: &listenerv3.ApiListener{ApiListener: a}}, nil
}

// serverListener is what gRPC's xDS server asks for through the bootstrap's
// server_listener_resource_name_template, with the address it listens on.
func serverListener(l ir.Listener) (*listenerv3.Listener, *routev3.RouteConfiguration, error) {
	fc := l.FilterChains[0]
	rc, err := routeConfig(fc.HTTP.RouteConfig)
	if err != nil {
		return nil, nil, err
	}
	var filters []*hcmv3.HttpFilter
	if fc.RBAC != nil {
		// Before the router, so a caller no TrafficPermission admits is refused
		// (PERMISSION_DENIED) before the application sees the RPC.
		f, err := httpFilter(wellknown.HTTPRoleBasedAccessControl, &rbachttpv3.RBAC{Rules: translate.RBACRules(*fc.RBAC)})
		if err != nil {
			return nil, nil, err
		}
		filters = append(filters, f)
	}
	m, err := hcm(fc.HTTP.StatPrefix, filters)
	if err != nil {
		return nil, nil, err
	}
	m.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads(), RouteConfigName: rc.Name}}
	a, err := toAny(m)
	if err != nil {
		return nil, nil, err
	}
	chain := &listenerv3.FilterChain{
		Name:    fc.Name,
		Filters: []*listenerv3.Filter{{Name: wellknown.HTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}},
	}
	if t := fc.TLS; t != nil {
		ctx := &tlsv3.DownstreamTlsContext{
			CommonTlsContext:         commonTLS(t.IdentityProvider, t.ValidationProvider, ""),
			RequireClientCertificate: wrapperspb.Bool(t.RequireClientCert),
		}
		if chain.TransportSocket, err = tlsSocket(ctx); err != nil {
			return nil, nil, err
		}
	}
	lis := &listenerv3.Listener{
		Name: l.Name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: l.Address, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: l.Port},
		}}},
		FilterChains:     []*listenerv3.FilterChain{chain},
		TrafficDirection: corev3.TrafficDirection_INBOUND,
	}
	return lis, rc, nil
}

// hcm is a connection manager with the given filters, then the router, which gRPC requires
// last.
func hcm(statPrefix string, filters []*hcmv3.HttpFilter) (*hcmv3.HttpConnectionManager, error) {
	router, err := httpFilter(wellknown.Router, &routerv3.Router{})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpConnectionManager{
		StatPrefix:  statPrefix,
		HttpFilters: append(filters, router),
	}, nil
}

func httpFilter(name string, cfg proto.Message) (*hcmv3.HttpFilter, error) {
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}, nil
}

func routeConfig(rc ir.RouteConfig) (*routev3.RouteConfiguration, error) {
	out := &routev3.RouteConfiguration{Name: rc.Name}
	for _, vh := range rc.VirtualHosts {
		v := &routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains}
		for _, r := range vh.Routes {
			rt, err := route(r)
			if err != nil {
				return nil, fmt.Errorf("route %q: %w", r.Name, err)
			}
			v.Routes = append(v.Routes, rt)
		}
		out.VirtualHosts = append(out.VirtualHosts, v)
	}
	return out, nil
}

func route(r ir.Route) (*routev3.Route, error) {
	out := &routev3.Route{Name: r.Name, Match: &routev3.RouteMatch{}}
	switch p := r.Match.Path; p.Kind {
	case ir.PathExact:
		out.Match.PathSpecifier = &routev3.RouteMatch_Path{Path: p.Value}
	case ir.PathRegex:
		out.Match.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: p.Value}}
	default:
		out.Match.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: p.Value}
	}
	for _, h := range r.Match.Headers {
		hm, err := headerMatch(h)
		if err != nil {
			return nil, err
		}
		out.Match.Headers = append(out.Match.Headers, hm)
	}
	if r.Match.Method != "" {
		out.Match.Headers = append(out.Match.Headers, &routev3.HeaderMatcher{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: r.Match.Method}},
		}})
	}
	if len(r.Match.Query) > 0 {
		return nil, errors.New("gRPC requests carry no query parameters to match")
	}
	switch {
	case r.NonForwarding:
		out.Action = &routev3.Route_NonForwardingAction{NonForwardingAction: &routev3.NonForwardingAction{}}
	case r.Forward != nil:
		out.Action = &routev3.Route_Route{Route: forward(*r.Forward)}
	default:
		return nil, errors.New("a gRPC route either forwards or leaves the RPC to the server")
	}
	return out, nil
}

func headerMatch(h ir.HeaderMatch) (*routev3.HeaderMatcher, error) {
	out := &routev3.HeaderMatcher{Name: h.Name}
	switch h.Kind {
	case ir.HeaderExact:
		out.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: h.Value}}}
	case ir.HeaderRegex:
		out.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: h.Value}}}}
	case ir.HeaderPresent:
		out.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
	case ir.HeaderAbsent:
		out.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
		out.InvertMatch = true
	default:
		return nil, fmt.Errorf("header %q: match kind %q", h.Name, h.Kind)
	}
	return out, nil
}

// forward names one cluster directly and splits between several by weight.
func forward(f ir.Forward) *routev3.RouteAction {
	if len(f.Clusters) == 1 {
		return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: f.Clusters[0].Name}}
	}
	wc := &routev3.WeightedCluster{}
	for _, c := range f.Clusters {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: c.Name, Weight: wrapperspb.UInt32(c.Weight)})
	}
	return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}}
}

func cluster(c ir.Cluster) (*clusterv3.Cluster, error) {
	out := &clusterv3.Cluster{
		Name:                 c.Name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads()},
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
	}
	if m := c.MTLS; m != nil {
		ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: commonTLS(m.IdentityProvider, m.ValidationProvider, m.SAN)}
		var err error
		if out.TransportSocket, err = tlsSocket(ctx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadAssignment is xds/translate's, with every locality weighted by its endpoints' weights
// (gRPC ignores a locality without load_balancing_weight) and named: gRPC NACKs a locality
// without one, so the local zone's is the empty locality.
func loadAssignment(c ir.Cluster) *endpointv3.ClusterLoadAssignment {
	cla := translate.LoadAssignment(c)
	for _, g := range cla.Endpoints {
		if g.Locality == nil {
			g.Locality = &corev3.Locality{}
		}
		var w uint32
		for _, e := range g.LbEndpoints {
			if ew := e.GetLoadBalancingWeight().GetValue(); ew > 0 {
				w += ew
			} else {
				w++
			}
		}
		g.LoadBalancingWeight = wrapperspb.UInt32(max(w, 1))
	}
	return cla
}

// commonTLS presents the identity provider's certificate and validates the peer with the trust
// provider; san, on the client side, is the SPIFFE ID the server must present (gRPC NACKs SAN
// matchers on a server, where RBAC decides instead).
func commonTLS(identity, trust, san string) *tlsv3.CommonTlsContext {
	ctx := &tlsv3.CommonTlsContext{
		TlsCertificateProviderInstance: &tlsv3.CertificateProviderPluginInstance{InstanceName: identity},
	}
	if trust == "" {
		return ctx
	}
	vc := &tlsv3.CertificateValidationContext{
		CaCertificateProviderInstance: &tlsv3.CertificateProviderPluginInstance{InstanceName: trust},
	}
	if san != "" {
		//nolint:staticcheck // gRPC-Go reads match_subject_alt_names, not the typed field.
		vc.MatchSubjectAltNames = []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: san}}}
	}
	ctx.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	return ctx
}

func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func tlsSocket(ctx proto.Message) (*corev3.TransportSocket, error) {
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: wellknown.TransportSocketTls, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}

// toAny packs deterministically: the packed bytes feed the snapshot's content hash.
func toAny(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, fmt.Errorf("packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return a, nil
}
