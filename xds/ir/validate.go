package ir

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/meshgate/meshgate/xds/names"
)

// tlsVersions are the names of Envoy's TlsParameters.TlsProtocol; an empty MinVersion means
// the translator's default.
var tlsVersions = map[string]bool{"": true, "TLS_AUTO": true, "TLSv1_0": true, "TLSv1_1": true, "TLSv1_2": true, "TLSv1_3": true}

var redirectCodes = map[uint32]bool{301: true, 302: true, 303: true, 307: true, 308: true}

// Validate reports every problem that would make Envoy reject, or silently misapply, the
// configuration translated from p. Each error starts with the field path of the offending value.
// The checks mirror Envoy's own constraints so that a bad proxy fails here, with a readable
// path, rather than as a NACK from a running Envoy.
func (p *Proxy) Validate() error {
	if p == nil {
		return errors.New("proxy: must not be nil")
	}
	if p.Proxyless {
		return p.validateProxyless()
	}
	v := &validator{
		clusters:      map[string]string{},
		secrets:       map[string]string{},
		routeConfigs:  map[string]string{},
		bundles:       map[string]bool{},
		spiffeBundles: map[string]bool{},
		offline:       p.Offline,
	}
	// Index clusters and secrets first, since listeners reference them, but report their
	// problems last so that errors read in the Proxy's field order.
	for i, c := range p.Clusters {
		v.cluster(fmt.Sprintf("clusters[%d]", i), c)
	}
	for i, s := range p.Secrets {
		v.secret(fmt.Sprintf("secrets[%d]", i), s)
	}
	later := v.errs
	v.errs = nil
	listeners := map[string]string{}
	addresses := map[string]string{}
	for i, l := range p.Listeners {
		path := fmt.Sprintf("listeners[%d]", i)
		v.unique(listeners, path+".name", l.Name)
		v.listener(path, l, addresses)
	}
	return errors.Join(append(v.errs, later...)...)
}

type validator struct {
	errs []error
	// offline skips the presence checks of CA-delivered secrets (see Proxy.Offline).
	offline bool
	// proxyless allows what only gRPC's xDS client and server take (see validateProxyless).
	proxyless bool
	// spiffeBundles are the secrets holding a SPIFFE validator.
	spiffeBundles map[string]bool
	// Each index maps a name to the path where it was first declared.
	clusters, secrets, routeConfigs map[string]string
	// bundles are the secrets that hold a trust bundle (TrustedCA) rather than a certificate.
	bundles map[string]bool
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// unique records name in seen and reports it if empty or declared before.
func (v *validator) unique(seen map[string]string, path, name string) {
	if name == "" {
		v.add(path, "must be set")
		return
	}
	if first, ok := seen[name]; ok {
		v.add(path, "duplicate %q (first at %s)", name, first)
		return
	}
	seen[name] = path
}

func (v *validator) set(path, val string) {
	if val == "" {
		v.add(path, "must be set")
	}
}

func (v *validator) duration(path string, d time.Duration) {
	if d < 0 {
		v.add(path, "must not be negative, got %s", d)
	}
}

func (v *validator) port(path string, port uint32) {
	if port < 1 || port > 65535 {
		v.add(path, "must be in [1, 65535], got %d", port)
	}
}

// ip checks for a literal IP: Envoy binds listeners and reaches EDS endpoints without DNS.
func (v *validator) ip(path, addr string) {
	if addr == "" {
		v.add(path, "must be set")
		return
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		v.add(path, "must be an IP address, got %q", addr)
	}
}

// regex compiles with Go's regexp, which implements the RE2 syntax Envoy's safe_regex uses.
func (v *validator) regex(path, expr string) {
	if _, err := regexp.Compile(expr); err != nil {
		v.add(path, "invalid regular expression %q: %v", expr, err)
	}
}

func (v *validator) clusterRef(path, name string) {
	switch {
	case name == "":
		v.add(path, "must be set")
	case name == names.UnresolvedBackend:
	case v.clusters[name] == "":
		v.add(path, "references unknown cluster %q", name)
	}
}

func (v *validator) listener(path string, l Listener, addresses map[string]string) {
	v.ip(path+".address", l.Address)
	v.port(path+".port", l.Port)
	switch l.Protocol {
	case HTTP, HTTPS, TCP, TLS:
	default:
		v.add(path+".protocol", "must be one of HTTP, HTTPS, TCP, TLS, got %q", l.Protocol)
	}
	v.sidecarListener(path, l)
	// Envoy refuses a second listener bound to the same socket.
	if a, err := netip.ParseAddr(l.Address); err == nil && l.Port >= 1 && l.Port <= 65535 {
		key := netip.AddrPortFrom(a, uint16(l.Port)).String()
		if first, ok := addresses[key]; ok {
			v.add(path, "address %s already used by %s", key, first)
		} else {
			addresses[key] = path
		}
	}
	// A redirect listener may serve everything from its default chain.
	if len(l.FilterChains) == 0 && l.DefaultChain == nil {
		v.add(path+".filterChains", "at least one filter chain is required")
	}
	chains := map[string]string{}
	matches := map[string]string{}
	for i, fc := range l.FilterChains {
		fcPath := fmt.Sprintf("%s.filterChains[%d]", path, i)
		v.unique(chains, fcPath+".name", fc.Name)
		v.filterChainMatch(fcPath, fc, matches)
		v.filterChain(fcPath, fc)
	}
	v.defaultChain(path, l, chains)
}

// filterChainMatch reports chains Envoy would reject as having the same matching rules.
func (v *validator) filterChainMatch(path string, fc FilterChain, seen map[string]string) {
	serverNames := fc.ServerNames
	if len(serverNames) == 0 {
		serverNames = []string{""}
	}
	for i, sn := range serverNames {
		if len(fc.ServerNames) > 0 && sn == "" {
			v.add(fmt.Sprintf("%s.serverNames[%d]", path, i), "must not be empty")
			continue
		}
		key := fmt.Sprintf("%t/%s/%s", fc.TransportProtocolTLS, strings.Join(fc.ApplicationProtocols, ","), sn)
		if first, ok := seen[key]; ok && first != path {
			v.add(path, "matches the same connections as %s (server name %q)", first, sn)
			continue
		}
		seen[key] = path
	}
}

func (v *validator) filterChain(path string, fc FilterChain) {
	if (fc.HTTP == nil) == (fc.TCP == nil) {
		v.add(path, "exactly one of http and tcp must be set")
	}
	if fc.TLS != nil {
		v.downstreamTLS(path+".tls", *fc.TLS)
	}
	// The TLS inspector reads ALPN only from TLS connections.
	if len(fc.ApplicationProtocols) > 0 && !fc.TransportProtocolTLS {
		v.add(path+".applicationProtocols", "requires transportProtocolTLS")
	}
	for i, a := range fc.ApplicationProtocols {
		if a == "" {
			v.add(fmt.Sprintf("%s.applicationProtocols[%d]", path, i), "must not be empty")
		}
	}
	if fc.HTTP != nil {
		v.hcm(path+".http", *fc.HTTP)
		// Without a verified client certificate there is nothing to forward, so asking for it
		// means the chain was built wrong.
		if fc.HTTP.ForwardClientCert && (fc.TLS == nil || !fc.TLS.RequireClientCert) {
			v.add(path+".http.forwardClientCert", "requires tls.requireClientCert")
		}
	}
	if fc.TCP != nil {
		v.tcp(path+".tcp", *fc.TCP)
	}
	v.chainRBAC(path, fc)
}

func (v *validator) downstreamTLS(path string, t DownstreamTLS) {
	switch {
	case len(t.CertificateSecrets) == 0 && t.IdentitySecret == "":
		v.add(path+".certificateSecrets", "at least one certificate is required to terminate TLS")
	case len(t.CertificateSecrets) > 0 && t.IdentitySecret != "":
		v.add(path+".identitySecret", "cannot be set together with certificateSecrets")
	}
	if t.IdentitySecret != "" && v.secrets[t.IdentitySecret] == "" && !v.offline {
		v.add(path+".identitySecret", "references unknown secret %q", t.IdentitySecret)
	}
	v.peerValidation(path, t)
	seen := map[string]string{}
	for i, name := range t.CertificateSecrets {
		p := fmt.Sprintf("%s.certificateSecrets[%d]", path, i)
		v.unique(seen, p, name)
		if name != "" && v.secrets[name] == "" {
			v.add(p, "references unknown secret %q", name)
		}
	}
	if !tlsVersions[t.MinVersion] {
		v.add(path+".minVersion", "must be one of TLS_AUTO, TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3, got %q", t.MinVersion)
	}
}

func (v *validator) hcm(path string, h HTTPConnectionManager) {
	v.set(path+".statPrefix", h.StatPrefix)
	v.httpOptions(path+".options", h.Options)
	v.routeConfig(path+".routeConfig", h.RouteConfig)
	v.sidecarHCM(path, h)
}

// httpOptions applies Envoy's HTTP/2 ranges to the values the translator does not omit.
func (v *validator) httpOptions(path string, o HTTPOptions) {
	const maxInt31 = math.MaxInt32
	if o.MaxConcurrentStreams > maxInt31 {
		v.add(path+".maxConcurrentStreams", "must be at most %d", maxInt31)
	}
	for _, w := range []struct {
		name string
		val  uint32
	}{{"initialStreamWindow", o.InitialStreamWindow}, {"initialConnWindow", o.InitialConnWindow}} {
		if w.val != 0 && (w.val < 65535 || w.val > maxInt31) {
			v.add(path+"."+w.name, "must be 0 or in [65535, %d], got %d", maxInt31, w.val)
		}
	}
	v.duration(path+".requestHeadersTimeout", o.RequestHeadersTimeout)
	v.duration(path+".streamIdleTimeout", o.StreamIdleTimeout)
	v.duration(path+".idleTimeout", o.IdleTimeout)
	for i, cidr := range o.InternalAddresses {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			v.add(fmt.Sprintf("%s.internalAddresses[%d]", path, i), "must be a CIDR, got %q", cidr)
		}
	}
}

func (v *validator) tcp(path string, t TCPProxy) {
	v.set(path+".statPrefix", t.StatPrefix)
	v.clusterList(path+".clusters", t.Clusters)
	// A lone cluster is proxied to directly and its weight is moot; once traffic is split,
	// Envoy's tcp_proxy rejects zero weights.
	if len(t.Clusters) > 1 {
		for i, c := range t.Clusters {
			if c.Weight == 0 {
				v.add(fmt.Sprintf("%s.clusters[%d].weight", path, i), "must be at least 1 when splitting between clusters")
			}
		}
	}
	v.accessLogs(path, t.AccessLogs)
	v.tcpPolicies(path, t)
}

// clusterList checks the entries of a weighted cluster list and returns their weight sum.
func (v *validator) clusterList(path string, cs []WeightedCluster) uint64 {
	if len(cs) == 0 {
		v.add(path, "at least one cluster is required")
		return 0
	}
	var sum uint64
	for i, c := range cs {
		p := fmt.Sprintf("%s[%d]", path, i)
		v.clusterRef(p+".name", c.Name)
		sum += uint64(c.Weight)
		for j, h := range c.RequestHeadersToAdd {
			v.headerToAdd(fmt.Sprintf("%s.requestHeadersToAdd[%d]", p, j), h)
		}
	}
	return sum
}

func (v *validator) cluster(path string, c Cluster) {
	v.unique(v.clusters, path+".name", c.Name)
	if c.Name == names.UnresolvedBackend {
		v.add(path+".name", "%q is reserved for backends that resolved to nothing", names.UnresolvedBackend)
	}
	v.set(path+".service", c.Service)
	switch c.Protocol {
	case ClusterTCP, ClusterHTTP, ClusterHTTP2:
	default:
		v.add(path+".protocol", "must be one of tcp, http, http2, got %q", c.Protocol)
	}
	if c.DefaultHTTP2Windows && c.Protocol != ClusterHTTP2 {
		v.add(path+".defaultHTTP2Windows", "applies to http2 clusters only, not %q", c.Protocol)
	}
	v.clusterEndpoints(path, c)
	if c.BindAddress != "" {
		v.ip(path+".bindAddress", c.BindAddress)
	}
	if m := c.MTLS; m != nil {
		p := path + ".mtls"
		v.set(p+".identitySecret", m.IdentitySecret)
		v.set(p+".validationSecret", m.ValidationSecret)
		v.set(p+".san", m.SAN)
		if len(m.SNI) > 255 {
			v.add(p+".sni", "must be at most 255 bytes, got %d", len(m.SNI))
		}
	}
	v.clusterSidecar(path, c)
	v.clusterPolicies(path, c)
}

func (v *validator) secret(path string, s Secret) {
	v.unique(v.secrets, path+".name", s.Name)
	if len(s.SPIFFETrustDomains) > 0 {
		v.spiffeBundles[s.Name] = true
		if s.CertificateChain != "" || s.PrivateKey != "" || s.TrustedCA != "" {
			v.add(path, "a SPIFFE validator secret cannot also carry a certificate, key or trusted CA")
		}
		v.spiffeTrustDomains(path, s.SPIFFETrustDomains)
		return
	}
	if s.TrustedCA != "" {
		v.bundles[s.Name] = true
		if s.CertificateChain != "" || s.PrivateKey != "" {
			v.add(path, "a trust bundle secret cannot also carry a certificate or key")
		}
		return
	}
	if strings.TrimSpace(s.CertificateChain) == "" {
		v.add(path+".certificateChain", "must be set")
	}
	if strings.TrimSpace(s.PrivateKey) == "" {
		v.add(path+".privateKey", "must be set")
	}
}

func (v *validator) routeConfig(path string, rc RouteConfig) {
	v.unique(v.routeConfigs, path+".name", rc.Name)
	for i, h := range rc.RequestHeadersToRemove {
		v.mutableHeader(fmt.Sprintf("%s.requestHeadersToRemove[%d]", path, i), h)
	}
	hosts := map[string]string{}
	// Envoy rejects a route configuration in which two virtual hosts claim the same domain.
	domains := map[string]string{}
	for i, vh := range rc.VirtualHosts {
		vhPath := fmt.Sprintf("%s.virtualHosts[%d]", path, i)
		v.unique(hosts, vhPath+".name", vh.Name)
		if len(vh.Domains) == 0 {
			v.add(vhPath+".domains", "at least one domain is required")
		}
		for j, d := range vh.Domains {
			v.unique(domains, fmt.Sprintf("%s.domains[%d]", vhPath, j), d)
		}
		for j, h := range vh.ResponseHeadersToAdd {
			v.headerToAdd(fmt.Sprintf("%s.responseHeadersToAdd[%d]", vhPath, j), h)
		}
		routes := map[string]string{}
		for j, r := range vh.Routes {
			rPath := fmt.Sprintf("%s.routes[%d]", vhPath, j)
			v.unique(routes, rPath+".name", r.Name)
			v.route(rPath, r)
		}
	}
}

func (v *validator) route(path string, r Route) {
	v.match(path+".match", r.Match)
	v.mutation(path+".requestHeaders", r.RequestHeaders)
	v.mutation(path+".responseHeaders", r.ResponseHeaders)
	actions := 0
	if r.Forward != nil {
		actions++
		v.forward(path+".forward", *r.Forward)
	}
	if r.Redirect != nil {
		actions++
		v.redirect(path+".redirect", *r.Redirect)
	}
	if r.DirectResponse != nil {
		actions++
		if s := r.DirectResponse.Status; s < 200 || s > 599 {
			v.add(path+".directResponse.status", "must be in [200, 599], got %d", s)
		}
	}
	if r.NonForwarding {
		actions++
		if !v.proxyless {
			v.add(path+".nonForwarding", "only the server routes of a proxyless dataplane may leave the request to the application")
		}
	}
	if actions != 1 {
		v.add(path, "exactly one action must be set (forward, redirect, directResponse, nonForwarding), got %d", actions)
	}
}

func (v *validator) match(path string, m RouteMatch) {
	switch m.Path.Kind {
	case PathExact, PathPrefix:
		if !strings.HasPrefix(m.Path.Value, "/") {
			v.add(path+".path.value", "must be an absolute path, got %q", m.Path.Value)
		}
	case PathRegex:
		v.regex(path+".path.value", m.Path.Value)
	default:
		v.add(path+".path.kind", "must be one of Exact, Prefix, Regex, got %q", m.Path.Kind)
	}
	for i, h := range m.Headers {
		p := fmt.Sprintf("%s.headers[%d]", path, i)
		v.set(p+".name", h.Name)
		switch h.Kind {
		case HeaderExact, HeaderPresent, HeaderAbsent:
		case HeaderRegex:
			v.regex(p+".value", h.Value)
		default:
			v.add(p+".kind", "must be one of Exact, Regex, Present, Absent, got %q", h.Kind)
		}
	}
	for i, q := range m.Query {
		p := fmt.Sprintf("%s.query[%d]", path, i)
		v.set(p+".name", q.Name)
		switch q.Kind {
		case QueryExact:
		case QueryRegex:
			v.regex(p+".value", q.Value)
		default:
			v.add(p+".kind", "must be one of Exact, Regex, got %q", q.Kind)
		}
	}
}

func (v *validator) mutation(path string, m HeaderMutation) {
	for i, h := range m.Set {
		v.headerToAdd(fmt.Sprintf("%s.set[%d]", path, i), h)
	}
	for i, h := range m.Add {
		v.headerToAdd(fmt.Sprintf("%s.add[%d]", path, i), h)
	}
	for i, name := range m.Remove {
		v.mutableHeader(fmt.Sprintf("%s.remove[%d]", path, i), name)
	}
}

func (v *validator) headerToAdd(path string, h Header) {
	v.mutableHeader(path+".name", h.Name)
	if strings.ContainsAny(h.Value, "\x00\r\n") {
		v.add(path+".value", "must not contain NUL, CR or LF")
	}
}

// mutableHeader rejects what Envoy refuses at load time: pseudo-headers and Host cannot be
// added or removed (Host is changed through host rewrites instead).
func (v *validator) mutableHeader(path, name string) {
	switch {
	case name == "":
		v.add(path, "must be set")
	case strings.HasPrefix(name, ":") || strings.EqualFold(name, "host"):
		v.add(path, "header %q cannot be modified; use a host rewrite", name)
	case strings.ContainsAny(name, "\x00\r\n"):
		v.add(path, "header name must not contain NUL, CR or LF")
	}
}

func (v *validator) forward(path string, f Forward) {
	sum := v.clusterList(path+".clusters", f.Clusters)
	if len(f.Clusters) > 0 && (sum == 0 || sum > math.MaxUint32) {
		v.add(path+".clusters", "weights must sum to a value in [1, %d], got %d", uint32(math.MaxUint32), sum)
	}
	if f.PrefixRewrite != "" && f.FullPathRewrite != "" {
		v.add(path, "prefixRewrite and fullPathRewrite are mutually exclusive")
	}
	if f.HostRewrite != "" && f.AutoHostRewrite {
		v.add(path, "hostRewrite and autoHostRewrite are mutually exclusive")
	}
	for i, m := range f.Mirrors {
		p := fmt.Sprintf("%s.mirrors[%d]", path, i)
		v.clusterRef(p+".cluster", m.Cluster)
		if math.IsNaN(m.Percent) || m.Percent < 0 || m.Percent > 100 {
			v.add(p+".percent", "must be in [0, 100], got %v", m.Percent)
		}
	}
	v.duration(path+".timeout", f.Timeout)
	if f.NoTimeout && f.Timeout != 0 {
		v.add(path+".noTimeout", "turns the request timeout off, so timeout must be 0, got %s", f.Timeout)
	}
	v.duration(path+".idleTimeout", f.IdleTimeout)
	v.forwardPolicies(path, f)
}

func (v *validator) redirect(path string, r Redirect) {
	if !redirectCodes[r.StatusCode] {
		v.add(path+".statusCode", "must be one of 301, 302, 303, 307, 308, got %d", r.StatusCode)
	}
	if r.Port > 65535 {
		v.add(path+".port", "must be in [0, 65535], got %d", r.Port)
	}
	if r.PrefixRewrite != "" && r.FullPathRewrite != "" {
		v.add(path, "prefixRewrite and fullPathRewrite are mutually exclusive")
	}
}
