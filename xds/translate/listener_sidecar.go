package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
)

func trafficDirection(d ir.Direction) corev3.TrafficDirection {
	if d == ir.DirectionOutbound {
		return corev3.TrafficDirection_OUTBOUND
	}
	return corev3.TrafficDirection_INBOUND
}

// sidecarListener tells a sidecar's listener from a gateway's. Gateway listeners leave
// Direction empty (INBOUND by default); xds/build sets it explicitly on every sidecar listener,
// inbound and outbound, and that is the signal: a bound plain-TCP inbound of a mesh without
// mTLS carries no other sidecar feature, and the gateway's always-on TLS inspector would stall
// server-first protocols (MySQL, SMTP) there until the listener filter timeout. The features
// only sidecars use (transparent-proxy redirection, a sidecar connection manager, client
// validation against the mesh bundle secret) mark a sidecar listener too. RBAC does not:
// cross-mesh gateway listeners have it. A gateway listener has none of these, so its output
// stays exactly what it was (the golden files check it).
func sidecarListener(l ir.Listener) bool {
	// Build sets a direction on every sidecar listener and none on gateway listeners; a
	// gateway listener may still validate clients (cross-mesh), so nothing else decides.
	return l.Direction != "" || l.Virtual || l.UseOriginalDst || l.DefaultChain != nil
}

// sidecarListenerOptions keeps Envoy's defaults, as Kuma's sidecars do: no gateway buffer limit
// (Envoy's 1 MiB), no explicit SO_REUSEPORT (meaningless on a virtual listener, Envoy's default
// elsewhere), and the TLS inspector only where a chain matches on what it reads (transport
// protocol, SNI, ALPN): on any other listener it would only delay the first bytes.
//
// A virtual listener does not bind (bind_to_port: false); it receives the connections the
// redirect listener (use_original_dst: true) hands over by original destination. Envoy adds
// the original_dst listener filter to such a listener by itself, which restores the local
// address the ORIGINAL_DST passthrough cluster forwards to.
func sidecarListenerOptions(out *listenerv3.Listener, l ir.Listener) error {
	if l.Virtual {
		out.BindToPort = wrapperspb.Bool(false)
	}
	if l.UseOriginalDst {
		out.UseOriginalDst = wrapperspb.Bool(true)
	}
	if !matchesOnTLS(l.FilterChains) {
		return nil
	}
	inspector, err := tlsInspector()
	if err != nil {
		return err
	}
	out.ListenerFilters = []*listenerv3.ListenerFilter{inspector}
	return nil
}

// matchesOnTLS reports whether any chain's match needs the TLS inspector. The default chain
// has no match by definition.
func matchesOnTLS(chains []ir.FilterChain) bool {
	for _, fc := range chains {
		if fc.TransportProtocolTLS || len(fc.ServerNames) > 0 || len(fc.ApplicationProtocols) > 0 {
			return true
		}
	}
	return false
}
