package translate

import (
	"fmt"
	"net/netip"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
)

// hcmFilter builds the HTTP connection manager with Envoy's edge best practices. The route
// configuration is referenced over RDS rather than inlined so that a route change does not
// drain the listener's connections.
func hcmFilter(h ir.HTTPConnectionManager) (*listenerv3.Filter, error) {
	router, err := toAny(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	cidrs, err := cidrRanges(h.Options.InternalAddresses)
	if err != nil {
		return nil, err
	}
	o := h.Options
	cfg := &hcmv3.HttpConnectionManager{
		StatPrefix: h.StatPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    ads(),
			RouteConfigName: h.RouteConfig.Name,
		}},
		ServerName:       o.ServerName,
		UseRemoteAddress: wrapperspb.Bool(true),
		NormalizePath:    wrapperspb.Bool(true),
		MergeSlashes:     true,
		// Unescaping %2F and redirecting keeps path-based routing and the upstream's view of the
		// path in agreement.
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		RequestHeadersTimeout:        duration(o.RequestHeadersTimeout),
		StreamIdleTimeout:            duration(o.StreamIdleTimeout),
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			IdleTimeout:                  duration(o.IdleTimeout),
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
		},
		Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
			MaxConcurrentStreams:        optionalUInt32(o.MaxConcurrentStreams),
			InitialStreamWindowSize:     optionalUInt32(o.InitialStreamWindow),
			InitialConnectionWindowSize: optionalUInt32(o.InitialConnWindow),
			AllowConnect:                true,
		},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       wellknown.Router,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router},
		}},
	}
	if h.ForwardClientCert {
		// SANITIZE_SET: a client-supplied header is dropped and replaced by what Envoy verified,
		// so the URI (the caller's SPIFFE ID) can be trusted by backends.
		cfg.ForwardClientCertDetails = hcmv3.HttpConnectionManager_SANITIZE_SET
		cfg.SetCurrentClientCertDetails = &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{Uri: true}
	}
	if len(cidrs) > 0 {
		cfg.InternalAddressConfig = &hcmv3.HttpConnectionManager_InternalAddressConfig{CidrRanges: cidrs}
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: wellknown.HTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}, nil
}

func cidrRanges(cidrs []string) ([]*corev3.CidrRange, error) {
	out := make([]*corev3.CidrRange, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("internal address %q: %w", c, err)
		}
		out = append(out, &corev3.CidrRange{
			AddressPrefix: p.Addr().String(),
			PrefixLen:     wrapperspb.UInt32(uint32(p.Bits())),
		})
	}
	return out, nil
}

// optionalUInt32 leaves zero unset: Envoy's ranges forbid 0 where its own default applies.
func optionalUInt32(v uint32) *wrapperspb.UInt32Value {
	if v == 0 {
		return nil
	}
	return wrapperspb.UInt32(v)
}
