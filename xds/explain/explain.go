// Package explain answers "how would Envoy handle this request?" from the Envoy resources a
// dataplane receives, never from the meshgate model: it interprets listeners, filter chains,
// route configurations and clusters with Envoy's own selection rules, so that what it reports
// is what the proxy will do with exactly that configuration, translator bugs included. The
// io.meshgate metadata on routes and clusters only labels the answer (which MeshGatewayRoute,
// which destination, which connection policy of each kind applied and which lost); it never
// steers it. Policies reports those decisions for every route, TCP proxy and cluster at once,
// for `meshgate inspect`.
//
// On sidecars and cross-mesh listeners it also follows the connection: the listener a
// destination address reaches (through a use_original_dst redirect), the TLS handshake of a
// chain that requires a client certificate (the mesh bundle and SAN matchers, or the SPIFFE
// validator's trust domains) against the client's URI SANs, the network RBAC filter's
// policies, the fault filters the request triggers, and the cluster it ends in with the TLS
// that cluster originates.
//
// Listeners, filter chains and their terminal filters are read through xds/envoyres
// (FilterChains, Terminal, the typed-config names), the same accessors modify's checks use.
package explain

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// Request is the request (and the connection carrying it) to explain.
type Request struct {
	Port uint32 `json:"port"`
	// Host is the Host / :authority header, port included if the client sends one.
	Host string `json:"host"`
	// Path is the request target: path plus optional ?query. Defaults to "/".
	Path string `json:"path,omitempty"`
	// Method defaults to GET. It is compared byte for byte, as Envoy does.
	Method  string   `json:"method,omitempty"`
	Headers []Header `json:"headers,omitempty"`
	// SNI defaults, on a TLS connection, to Host without its port (none for an IP literal).
	SNI string `json:"sni,omitempty"`
	// TLS forces a TLS connection and Plaintext a plain one. With neither (and no SNI), the
	// connection is TLS when every filter chain of the listener requires TLS.
	TLS       bool `json:"tls,omitempty"`
	Plaintext bool `json:"plaintext,omitempty"`
	// ALPN is what the client offers; on TLS it defaults to h2 and http/1.1, as curl and
	// browsers send. Filter chains may match on it (cross-mesh listeners ask for "kuma").
	ALPN []string `json:"alpn,omitempty"`
	// ClientCert: the client presents a certificate that the listener validated. Only route
	// tls_context matches look at it. Source implies it.
	ClientCert bool `json:"clientCert,omitempty"`
	// Address is the connection's destination IP. With it, the listener is the one Envoy hands
	// the connection to: the one bound to that address and port or, on a sidecar whose traffic
	// iptables redirects (a use_original_dst listener), the listener whose address and port are
	// the original destination, else the redirect listener's own (passthrough) chain. Without
	// it the listener is found by port alone, as on a gateway, whose ports are unique.
	Address string `json:"address,omitempty"`
	// Source is the certificate the client presents: listeners that require one validate it,
	// network RBAC filters authorize its URI SANs. Nil: the client presents none.
	Source *Peer `json:"source,omitempty"`
}

// Peer is what a client certificate says about the client.
type Peer struct {
	// URIs are the certificate's URI SANs in order: the SPIFFE IDs (`spiffe://<mesh>/<service>`)
	// first, then Kuma's tag URIs (`kuma://<tag>/<value>`), as meshgate's CA writes them.
	URIs []string `json:"uris"`
	// TrustDomain is the trust domain (mesh) whose CA issued the certificate. Empty means the
	// trust domain of its first SPIFFE ID: a mesh CA only issues identities of its own mesh.
	TrustDomain string `json:"trustDomain,omitempty"`
}

// Header is one request header; a name may repeat.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParseHeader reads the CLI's `name=value` (or `name: value`) form.
func ParseHeader(s string) (Header, error) {
	i := strings.IndexAny(s, "=:")
	// A leading ':' belongs to a pseudo-header name, not the separator.
	if i == 0 {
		if j := strings.IndexAny(s[1:], "=:"); j >= 0 {
			i = j + 1
		} else {
			i = -1
		}
	}
	if i <= 0 {
		return Header{}, fmt.Errorf("header %q: want name=value", s)
	}
	name := strings.TrimSpace(s[:i])
	if name == "" {
		return Header{}, fmt.Errorf("header %q: empty name", s)
	}
	return Header{Name: name, Value: strings.TrimSpace(s[i+1:])}, nil
}

// explainer carries one explanation's inputs and the result it fills in.
type explainer struct {
	res     *envoyres.Resources
	req     Request
	out     *Result
	regexps map[string]*regexp.Regexp
}

// Explain reports how Envoy, configured with res, would handle req. An error means the request
// is incomplete or the resources are broken in a way Envoy would have rejected; everything Envoy
// would answer on its own (404, a redirect, a closed connection) is a Result.
func Explain(res *envoyres.Resources, req Request) (*Result, error) {
	if res == nil {
		return nil, errors.New("explain: no resources")
	}
	if req.Port == 0 {
		return nil, errors.New("explain: a port is required")
	}
	if req.TLS && req.Plaintext {
		return nil, errors.New("explain: a connection cannot be both TLS and plaintext")
	}
	if req.Plaintext && req.SNI != "" {
		return nil, errors.New("explain: SNI needs a TLS connection")
	}
	var dest netip.Addr
	if req.Address != "" {
		a, err := netip.ParseAddr(req.Address)
		if err != nil {
			return nil, fmt.Errorf("explain: address %q is not an IP address", req.Address)
		}
		dest = a.Unmap()
	}
	if req.Source != nil && len(req.Source.URIs) == 0 {
		return nil, errors.New("explain: a source certificate needs at least one URI SAN")
	}
	e := &explainer{res: res, req: req, out: &Result{}, regexps: map[string]*regexp.Regexp{}}
	if api, m, err := apiListener(res.Listeners, req); err != nil || api != nil {
		if err != nil {
			return nil, err
		}
		return e.explainAPIListener(api, m)
	}
	var l *listenerv3.Listener
	var addr *corev3.SocketAddress
	var err error
	if dest.IsValid() {
		l, addr, err = e.listenerAt(dest, req.Port)
	} else {
		l, addr, err = findListener(res.Listeners, req.Port)
	}
	if err != nil {
		return nil, err
	}
	e.out.Listener = l.GetName()
	e.out.Outbound = l.GetTrafficDirection() == corev3.TrafficDirection_OUTBOUND
	if l.GetFilterChainMatcher() != nil {
		return nil, fmt.Errorf("listener %q selects filter chains with filter_chain_matcher, which explain does not interpret", l.GetName())
	}
	conn := e.connection(l, addr)
	fc, why := e.selectFilterChain(l, conn)
	if fc == nil {
		e.out.Action = &Action{Close: true}
		e.out.Reason = why
		return e.out, nil
	}
	e.out.FilterChain = fc.GetName()
	ok, err := e.checkDownstreamTLS(fc, conn)
	if err != nil {
		return nil, err
	}
	if !ok {
		return e.out, nil
	}
	filters, err := e.decodeFilters(fc)
	if err != nil {
		return nil, err
	}
	for _, r := range filters.rbac {
		ok, err := e.checkRBAC(r, conn)
		if err != nil {
			return nil, err
		}
		if !ok {
			return e.out, nil
		}
	}
	switch {
	case filters.hcm != nil:
		if err := e.explainHTTP(filters.hcm, conn); err != nil {
			return nil, err
		}
	case filters.tcp != nil:
		e.out.Policies = policiesFrom(fc.GetMetadata())
		e.explainTCP(filters.tcp)
	default:
		e.out.Action = &Action{Close: true}
		e.out.Reason = "the filter chain has neither an http_connection_manager nor a tcp_proxy filter"
	}
	return e.out, nil
}

func (e *explainer) compile(expr string, full bool) (*regexp.Regexp, error) {
	key := expr
	if full {
		// RE2's FullMatch, which Envoy's safe_regex uses, anchors at both ends.
		key = `^(?:` + expr + `)$`
	}
	if re, ok := e.regexps[key]; ok {
		return re, nil
	}
	re, err := regexp.Compile(key)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", expr, err)
	}
	e.regexps[key] = re
	return re, nil
}

func (e *explainer) fullMatch(expr, s string) (bool, error) {
	re, err := e.compile(expr, true)
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}

// replaceAll is RE2::GlobalReplace, which Envoy's regex rewrites use: the substitution's \N
// groups become Go's ${N}.
func (e *explainer) replaceAll(expr, subst, s string) (string, error) {
	re, err := e.compile(expr, false)
	if err != nil {
		return "", err
	}
	return re.ReplaceAllString(s, re2Substitution(subst)), nil
}

func re2Substitution(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
