package explain

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
)

// A proxyless gRPC dataplane's configuration (xds/translate/proxyless) differs from Envoy's in
// three places explain follows: its TLS names certificate provider instances of the gRPC
// bootstrap instead of SDS secrets, TrafficPermission is an HTTP RBAC filter (a denied RPC ends
// with PERMISSION_DENIED, the connection stays), and its server routes are
// non_forwarding_action (the server handles the RPC).

// providerPrefix marks a TLSCheck identity or validation that is a certificate provider
// instance rather than a secret.
const providerPrefix = "provider:"

const httpRBACType = "envoy.extensions.filters.http.rbac.v3.RBAC"

// checkProviderPeer judges the client certificate as gRPC does with its trust provider: the
// SPIFFE bundle map (GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true) verifies a certificate with
// exactly one URI SAN, a SPIFFE ID, against the bundle of that ID's trust domain only. The
// map's content is in the workload's files, not the configuration; explain takes it to hold
// every mTLS mesh, as `meshgate agent` writes it. It returns why the handshake fails, or "".
func (e *explainer) checkProviderPeer(chk *TLSCheck, peer *Peer, issuer string) string {
	first := peer.URIs[0]
	td, ok := trustDomainOf(first)
	switch {
	case len(peer.URIs) != 1:
		return fmt.Sprintf("gRPC's SPIFFE bundle map requires exactly one URI SAN, the certificate has %d", len(peer.URIs))
	case !ok:
		return fmt.Sprintf("the URI SAN %s is not a SPIFFE ID, which gRPC's SPIFFE bundle map requires", first)
	case issuer != td:
		chk.PeerTrustDomain = td
		return fmt.Sprintf("the certificate claims trust domain %s but was issued by %s's CA, so it does not verify against %s's bundle", td, issuer, td)
	}
	chk.PeerTrustDomain = td
	e.out.note("certificate provider %s (gRPC bootstrap): explain assumes its SPIFFE bundle map holds every mTLS mesh's roots, as meshgate agent writes them", strings.TrimPrefix(chk.Validation, providerPrefix))
	return ""
}

// checkHTTPRBAC runs the connection manager's HTTP RBAC filters, in filter order, on the
// request: the same rules as the network filter, but a denial answers the request (403; a gRPC
// server answers PERMISSION_DENIED) instead of closing the connection.
func (e *explainer) checkHTTPRBAC(hcm *hcmv3.HttpConnectionManager, c conn) (bool, error) {
	for _, f := range hcm.GetHttpFilters() {
		a := f.GetTypedConfig()
		if a == nil || !strings.HasSuffix(a.GetTypeUrl(), "/"+httpRBACType) {
			continue
		}
		r := &rbachttpv3.RBAC{}
		if err := a.UnmarshalTo(r); err != nil {
			return false, fmt.Errorf("HTTP filter %q: %w", f.GetName(), err)
		}
		ok, err := e.checkRBAC(&rbacv3.RBAC{Rules: r.GetRules()}, c)
		if err != nil || ok {
			if err != nil {
				return false, fmt.Errorf("HTTP filter %q: %w", f.GetName(), err)
			}
			continue
		}
		e.out.Action = &Action{DirectResponse: &DirectResponse{Status: 403}}
		if p := e.out.RBAC[len(e.out.RBAC)-1].Policy; p != "" {
			e.out.Reason = fmt.Sprintf("the HTTP RBAC filter denies the request (policy %s): 403, PERMISSION_DENIED for gRPC", p)
		} else {
			e.out.Reason = "no HTTP RBAC policy admits the client: 403, PERMISSION_DENIED for gRPC"
		}
		return false, nil
	}
	return true, nil
}

// apiListener is the API listener a proxyless gRPC client resolves for the request's target,
// `xds:///<host>:<port>`: the listener named `<host>:<port>`, nil when there is none. Its
// connection manager is the whole of it: gRPC accepts no connection there, it routes the
// application's own RPCs.
func apiListener(ls []*listenerv3.Listener, req Request) (*listenerv3.Listener, *hcmv3.HttpConnectionManager, error) {
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	name := net.JoinHostPort(host, strconv.Itoa(int(req.Port)))
	for _, l := range ls {
		a := l.GetApiListener().GetApiListener()
		if a == nil || l.GetName() != name {
			continue
		}
		m := &hcmv3.HttpConnectionManager{}
		if err := a.UnmarshalTo(m); err != nil {
			return nil, nil, fmt.Errorf("API listener %q: %w", name, err)
		}
		return l, m, nil
	}
	return nil, nil, nil
}

// explainAPIListener follows a proxyless client's RPC from the API listener its target names.
func (e *explainer) explainAPIListener(l *listenerv3.Listener, m *hcmv3.HttpConnectionManager) (*Result, error) {
	e.out.Listener = l.GetName()
	e.out.Outbound = true
	e.out.note("API listener of a proxyless gRPC client: the application dials xds:///%s", l.GetName())
	if err := e.explainHTTP(m, conn{port: e.req.Port}); err != nil {
		return nil, err
	}
	if a := e.out.Action; a != nil && a.Timeout != "" {
		// Envoy's route timeout (15 s by default) is not gRPC's: gRPC bounds an RPC only by its
		// own deadline and max_stream_duration, which meshgate does not set.
		a.Timeout = ""
		e.out.note("gRPC applies no route timeout: an RPC is bounded by the application's deadline")
	}
	return e.out, nil
}
