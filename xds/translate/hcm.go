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

// hcmFilter builds the HTTP connection manager: for a gateway with Envoy's edge best
// practices, for a sidecar with Envoy's defaults (see sidecarHCM). The route configuration is
// referenced over RDS rather than inlined so that a route change does not drain the listener's
// connections.
func hcmFilter(h ir.HTTPConnectionManager) (*listenerv3.Filter, error) {
	router, err := toAny(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	// Faults run before the router, in IR order.
	filters, err := faultFilters(h.Faults)
	if err != nil {
		return nil, err
	}
	// The local rate limit filter runs the routes' token buckets (see rateLimited).
	if rateLimited(h.RouteConfig) {
		rl, err := rateLimitFilter()
		if err != nil {
			return nil, err
		}
		filters = append(filters, rl)
	}
	// Kuma's order: rate limit, compressor, router.
	if h.Compression {
		gz, err := compressorFilter()
		if err != nil {
			return nil, err
		}
		filters = append(filters, gz)
	}
	filters = append(filters, &hcmv3.HttpFilter{
		Name:       wellknown.Router,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router},
	})
	logs, err := accessLogs(h.AccessLogs, defaultHTTPAccessLogFormat)
	if err != nil {
		return nil, err
	}
	cfg := &hcmv3.HttpConnectionManager{
		StatPrefix: h.StatPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    ads(),
			RouteConfigName: h.RouteConfig.Name,
		}},
		HttpFilters: filters,
		AccessLog:   logs,
	}
	if !h.Sidecar {
		if err := edgeOptions(cfg, h.Options); err != nil {
			return nil, err
		}
	} else {
		cfg.StreamIdleTimeout = duration(h.StreamIdleTimeout)
	}
	if h.ForwardClientCert {
		// SANITIZE_SET: a client-supplied header is dropped and replaced by what Envoy verified,
		// so the URI (the caller's SPIFFE ID) can be trusted by backends.
		cfg.ForwardClientCertDetails = hcmv3.HttpConnectionManager_SANITIZE_SET
		cfg.SetCurrentClientCertDetails = &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{Uri: true}
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: wellknown.HTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}, nil
}

// edgeOptions are a gateway's edge settings. A sidecar connection manager leaves all of them
// out and keeps Envoy's defaults, as Kuma's sidecars do: it sits behind (inbound) or in front of
// (outbound) its own application, not on the edge.
func edgeOptions(cfg *hcmv3.HttpConnectionManager, o ir.HTTPOptions) error {
	cidrs, err := cidrRanges(o.InternalAddresses)
	if err != nil {
		return err
	}
	cfg.ServerName = o.ServerName
	cfg.UseRemoteAddress = wrapperspb.Bool(true)
	cfg.NormalizePath = wrapperspb.Bool(true)
	cfg.MergeSlashes = true
	// Unescaping %2F and redirecting keeps path-based routing and the upstream's view of the
	// path in agreement.
	cfg.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT
	cfg.RequestHeadersTimeout = duration(o.RequestHeadersTimeout)
	cfg.StreamIdleTimeout = duration(o.StreamIdleTimeout)
	cfg.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{
		IdleTimeout:                  duration(o.IdleTimeout),
		HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
	}
	cfg.Http2ProtocolOptions = &corev3.Http2ProtocolOptions{
		MaxConcurrentStreams:        optionalUInt32(o.MaxConcurrentStreams),
		InitialStreamWindowSize:     optionalUInt32(o.InitialStreamWindow),
		InitialConnectionWindowSize: optionalUInt32(o.InitialConnWindow),
		AllowConnect:                true,
	}
	if len(cidrs) > 0 {
		cfg.InternalAddressConfig = &hcmv3.HttpConnectionManager_InternalAddressConfig{CidrRanges: cidrs}
	}
	return nil
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
