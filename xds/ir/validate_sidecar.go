package ir

import (
	"crypto/tls"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
)

// Checks of the sidecar features: listener direction and transparent proxying, RBAC, mesh
// bundle client validation, faults, access logs, cluster types and upstream TLS.

func (v *validator) sidecarListener(path string, l Listener) {
	switch l.Direction {
	case "", DirectionInbound, DirectionOutbound:
	default:
		v.add(path+".direction", "must be one of INBOUND, OUTBOUND, got %q", l.Direction)
	}
	if l.Virtual && l.UseOriginalDst {
		v.add(path+".useOriginalDst", "a virtual listener binds no socket, so it cannot be the redirect listener")
	}
	if l.UseOriginalDst && l.DefaultChain == nil {
		v.add(path+".defaultChain", "must be set with useOriginalDst: it serves the connections no virtual listener claims")
	}
	if l.DefaultChain != nil && !l.UseOriginalDst {
		v.add(path+".defaultChain", "requires useOriginalDst")
	}
}

// defaultChain checks the redirect listener's default chain like any other; it matches nothing
// of its own (Envoy uses it when no chain matched), so match fields would be dead.
func (v *validator) defaultChain(path string, l Listener, chains map[string]string) {
	if l.DefaultChain == nil {
		return
	}
	fc := *l.DefaultChain
	p := path + ".defaultChain"
	v.unique(chains, p+".name", fc.Name)
	if len(fc.ServerNames) > 0 || fc.TransportProtocolTLS || len(fc.ApplicationProtocols) > 0 {
		v.add(p, "the default chain takes no match (serverNames, transportProtocolTLS, applicationProtocols)")
	}
	v.filterChain(p, fc)
}

// chainRBAC checks a chain's RBAC. Its principals are read from the verified client
// certificate, so without one no policy could ever admit anybody.
func (v *validator) chainRBAC(path string, fc FilterChain) {
	if fc.RBAC == nil {
		return
	}
	p := path + ".rbac"
	if fc.TLS == nil || !fc.TLS.RequireClientCert {
		v.add(p, "requires tls.requireClientCert: principals are read from the verified client certificate")
	}
	v.set(p+".statPrefix", fc.RBAC.StatPrefix)
	seen := map[string]string{}
	for i, pol := range fc.RBAC.Policies {
		pp := fmt.Sprintf("%s.policies[%d]", p, i)
		v.unique(seen, pp+".name", pol.Name)
		if len(pol.Principals) == 0 {
			v.add(pp+".principals", "at least one principal is required")
		}
		for j, pr := range pol.Principals {
			prp := fmt.Sprintf("%s.principals[%d]", pp, j)
			if len(pr.URIs) == 0 {
				v.add(prp+".uris", "at least one matcher is required")
			}
			for k, m := range pr.URIs {
				v.sanMatch(fmt.Sprintf("%s.uris[%d]", prp, k), m)
			}
			for k, m := range pr.NotURIs {
				v.sanMatch(fmt.Sprintf("%s.notUris[%d]", prp, k), m)
			}
		}
	}
}

func (v *validator) sanMatch(path string, m SANMatch) {
	switch m.Kind {
	case SANExact, SANPrefix:
		v.set(path+".value", m.Value)
	case SANRegex:
		v.set(path+".value", m.Value)
		if m.Value != "" {
			v.regex(path+".value", m.Value)
		}
	default:
		v.add(path+".kind", "must be one of Exact, Prefix, Regex, got %q", m.Kind)
	}
}

// peerValidation checks how a chain validates clients. Envoy refuses to require client
// certificates without something to validate them against, and a validator on a chain that
// does not require certificates would let certificate-less clients through unnoticed. The
// secret is either a mesh trust bundle, with a SAN prefix, or a SPIFFE validator, without.
func (v *validator) peerValidation(path string, t DownstreamTLS) {
	switch {
	case t.RequireClientCert && t.ValidationSecret == "":
		v.add(path+".validationSecret", "must be set with requireClientCert")
		return
	case !t.RequireClientCert && t.ValidationSecret != "":
		v.add(path+".requireClientCert", "must be set when validationSecret is")
		return
	case t.ValidationSecret == "":
		if t.SANPrefix != "" {
			v.add(path+".sanPrefix", "requires validationSecret")
		}
		return
	}
	switch {
	case v.spiffeBundles[t.ValidationSecret]:
		if t.SANPrefix != "" {
			v.add(path+".sanPrefix", "must be empty with a SPIFFE validator secret, which checks trust domains itself")
		}
	case v.bundles[t.ValidationSecret]:
		v.set(path+".sanPrefix", t.SANPrefix)
	case v.secrets[t.ValidationSecret] != "":
		v.add(path+".validationSecret", "secret %q is a certificate, not a trust bundle", t.ValidationSecret)
	case !v.offline:
		v.add(path+".validationSecret", "references unknown secret %q", t.ValidationSecret)
	}
}

func (v *validator) sidecarHCM(path string, h HTTPConnectionManager) {
	if h.Sidecar && !optionsEmpty(h.Options) {
		v.add(path+".options", "a sidecar connection manager keeps Envoy's defaults; edge options would be ignored")
	}
	if !h.Sidecar && h.StreamIdleTimeout != 0 {
		v.add(path+".streamIdleTimeout", "only a sidecar connection manager has its own; a gateway's is options.streamIdleTimeout")
	}
	v.duration(path+".streamIdleTimeout", h.StreamIdleTimeout)
	for i, f := range h.Faults {
		v.fault(fmt.Sprintf("%s.faults[%d]", path, i), f)
	}
	v.accessLogs(path, h.AccessLogs)
}

func optionsEmpty(o HTTPOptions) bool {
	return o.ServerName == "" && o.RequestHeadersTimeout == 0 && o.StreamIdleTimeout == 0 && o.IdleTimeout == 0 &&
		o.MaxConcurrentStreams == 0 && o.InitialStreamWindow == 0 && o.InitialConnWindow == 0 && len(o.InternalAddresses) == 0
}

func (v *validator) fault(path string, f Fault) {
	if f.Delay == nil && f.Abort == nil && f.ResponseBandwidth == nil {
		v.add(path, "at least one of delay, abort and responseBandwidth is required")
	}
	keys := make([]string, 0, len(f.SourceTags))
	for k := range f.SourceTags {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors in a stable order
	for _, k := range keys {
		p := fmt.Sprintf("%s.sourceTags[%q]", path, k)
		// `&` and `=` delimit x-kuma-tags; a tag containing them could never match.
		if k == "" || strings.ContainsAny(k, "&=") {
			v.add(p, "tag key must be non-empty and free of '&' and '='")
		}
		if val := f.SourceTags[k]; val == "" || strings.ContainsAny(val, "&=") {
			v.add(p, "tag value must be non-empty and free of '&' and '=', got %q", val)
		}
	}
	if d := f.Delay; d != nil {
		v.percent(path+".delay.percent", d.Percent)
		if d.Value <= 0 {
			v.add(path+".delay.value", "must be positive, got %s", d.Value)
		}
	}
	if a := f.Abort; a != nil {
		v.percent(path+".abort.percent", a.Percent)
		if a.HTTPStatus < 200 || a.HTTPStatus > 599 {
			v.add(path+".abort.httpStatus", "must be in [200, 599], got %d", a.HTTPStatus)
		}
	}
	if b := f.ResponseBandwidth; b != nil {
		v.percent(path+".responseBandwidth.percent", b.Percent)
		if b.LimitKbps < 1 {
			v.add(path+".responseBandwidth.limitKbps", "must be at least 1")
		}
	}
}

func (v *validator) percent(path string, p float64) {
	if math.IsNaN(p) || p < 0 || p > 100 {
		v.add(path, "must be in [0, 100], got %v", p)
	}
}

func (v *validator) accessLogs(path string, logs []AccessLog) {
	for i, l := range logs {
		p := fmt.Sprintf("%s.accessLogs[%d]", path, i)
		if (l.Path == "") == (l.TCP == nil) {
			v.add(p, "exactly one of path and tcp must be set")
		}
		if l.TCP != nil {
			// The backend is the Fluentd tag and stat prefix, which Envoy requires.
			v.set(p+".backend", l.Backend)
			switch c := l.TCP.Cluster; {
			case c == "":
				v.add(p+".tcp.cluster", "must be set")
			case v.clusters[c] == "":
				v.add(p+".tcp.cluster", "references unknown cluster %q", c)
			}
		}
		if strings.Contains(l.Format, "%KUMA_") {
			v.add(p+".format", "Kuma placeholders (%s) must be resolved before translation: Envoy rejects them", "%KUMA_...%")
		}
	}
}

// clusterEndpoints checks endpoints by cluster type: IP literals for EDS and STATIC (Envoy
// reaches them without DNS), hostnames (or IPs) for STRICT_DNS, none for ORIGINAL_DST.
func (v *validator) clusterEndpoints(path string, c Cluster) {
	switch c.Type {
	case ClusterEDS, ClusterStatic, ClusterStrictDNS:
	case ClusterOriginalDst:
		if len(c.Endpoints) > 0 {
			v.add(path+".endpoints", "an ORIGINAL_DST cluster forwards to each connection's original destination and takes no endpoints")
		}
		return
	default:
		v.add(path+".type", "must be one of EDS (empty), STATIC, STRICT_DNS, ORIGINAL_DST, got %q", c.Type)
		return
	}
	for i, e := range c.Endpoints {
		p := fmt.Sprintf("%s.endpoints[%d]", path, i)
		if c.Type == ClusterStrictDNS {
			v.hostname(p+".address", e.Address)
		} else {
			v.ip(p+".address", e.Address)
		}
		v.port(p+".port", e.Port)
	}
	v.endpointPriorities(path, c.Endpoints)
}

// hostname accepts a DNS name or an IP literal.
func (v *validator) hostname(path, h string) {
	if h == "" {
		v.add(path, "must be set")
		return
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return
	}
	ok := len(h) <= 253
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			ok = false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				ok = false
			}
		}
	}
	if !ok {
		v.add(path, "must be a DNS name or an IP address, got %q", h)
	}
}

func (v *validator) clusterSidecar(path string, c Cluster) {
	v.duration(path+".connectTimeout", c.ConnectTimeout)
	if c.MTLS != nil && c.TLS != nil {
		v.add(path+".tls", "cannot be set together with mtls")
	}
	if c.TLS != nil {
		v.upstreamTLS(path+".tls", *c.TLS)
	}
}

// upstreamTLS catches what would make Envoy reject the cluster (and so the whole CDS update):
// an unparsable CA, a SAN check without a CA, a client key that does not match its certificate.
func (v *validator) upstreamTLS(path string, t UpstreamTLS) {
	if len(t.SNI) > 255 {
		v.add(path+".sni", "must be at most 255 bytes, got %d", len(t.SNI))
	}
	if t.CA == "" {
		if !t.AllowInsecure {
			v.add(path+".ca", "must be set unless allowInsecure: without it the server is not verified")
		}
		if t.VerifySAN != "" {
			v.add(path+".verifySAN", "requires ca: Envoy refuses SAN checks without a trusted CA")
		}
	} else if err := checkBundlePEM(t.CA); err != nil {
		v.add(path+".ca", "%v", err)
	}
	switch {
	case (t.ClientCertificate == "") != (t.ClientKey == ""):
		v.add(path, "clientCertificate and clientKey must be set together")
	case t.ClientCertificate != "":
		if _, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey)); err != nil {
			v.add(path+".clientCertificate", "%v", err)
		}
	}
	for i, a := range t.ALPN {
		if a == "" {
			v.add(fmt.Sprintf("%s.alpn[%d]", path, i), "must not be empty")
		}
	}
}
