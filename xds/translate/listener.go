package translate

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
)

// connectionLimitFilter is Envoy's network filter name; wellknown does not define it.
const connectionLimitFilter = "envoy.filters.network.connection_limit"

// listener returns the Envoy listener for l and the route configurations its HTTP filter
// chains reference over RDS.
func listener(l ir.Listener) (*listenerv3.Listener, []*routev3.RouteConfiguration, error) {
	var pre []*listenerv3.Filter
	if l.ConnectionLimit > 0 {
		f, err := connectionLimit(l)
		if err != nil {
			return nil, nil, err
		}
		pre = append(pre, f)
	}
	out := &listenerv3.Listener{
		Name:             l.Name,
		Address:          socketAddress(l.Address, l.Port),
		TrafficDirection: trafficDirection(l.Direction),
	}
	var err error
	if sidecarListener(l) {
		err = sidecarListenerOptions(out, l)
	} else {
		err = gatewayListenerOptions(out)
	}
	if err != nil {
		return nil, nil, err
	}
	var routes []*routev3.RouteConfiguration
	for i, fc := range l.FilterChains {
		chain, rc, err := filterChain(fc, pre)
		if err != nil {
			return nil, nil, fmt.Errorf("filter chain %d %q: %w", i, fc.Name, err)
		}
		out.FilterChains = append(out.FilterChains, chain)
		if rc != nil {
			routes = append(routes, rc)
		}
	}
	if l.DefaultChain != nil {
		chain, rc, err := filterChain(*l.DefaultChain, pre)
		if err != nil {
			return nil, nil, fmt.Errorf("default filter chain %q: %w", l.DefaultChain.Name, err)
		}
		out.DefaultFilterChain = chain
		if rc != nil {
			routes = append(routes, rc)
		}
	}
	return out, routes, nil
}

// gatewayListenerOptions are Kuma's gateway listener settings: a 32 KiB per-connection buffer,
// SO_REUSEPORT, and the TLS inspector on every listener.
func gatewayListenerOptions(out *listenerv3.Listener) error {
	inspector, err := tlsInspector()
	if err != nil {
		return err
	}
	out.PerConnectionBufferLimitBytes = wrapperspb.UInt32(bufferLimit)
	out.EnableReusePort = wrapperspb.Bool(true)
	// Always present, even on plain-text listeners, as Kuma does: it lets a chain match on
	// SNI and transport protocol without reshaping the listener when TLS is added.
	out.ListenerFilters = []*listenerv3.ListenerFilter{inspector}
	return nil
}

func tlsInspector() (*listenerv3.ListenerFilter, error) {
	a, err := toAny(&tlsinspectorv3.TlsInspector{})
	if err != nil {
		return nil, err
	}
	return &listenerv3.ListenerFilter{
		Name:       wellknown.TlsInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: a},
	}, nil
}

// connectionLimit replaces Kuma's RTDS runtime key: the limit then travels with the listener
// itself and needs no runtime layer in the bootstrap. It is per filter chain in Envoy, so every
// chain carries it; the stat prefix is the listener name so that each listener's rejections
// are counted apart.
func connectionLimit(l ir.Listener) (*listenerv3.Filter, error) {
	cfg, err := toAny(&connlimitv3.ConnectionLimit{
		StatPrefix:     l.Name,
		MaxConnections: wrapperspb.UInt64(uint64(l.ConnectionLimit)),
	})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{
		Name:       connectionLimitFilter,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: cfg},
	}, nil
}

func socketAddress(addr string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Protocol:      corev3.SocketAddress_TCP,
		Address:       addr,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
