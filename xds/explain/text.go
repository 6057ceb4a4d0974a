package explain

import (
	"fmt"
	"sort"
	"strings"
)

// Text renders the result for a terminal: one labelled line per step, labels aligned, the
// outcome (action or reason) impossible to miss.
func (r *Result) Text() string {
	if r == nil {
		return ""
	}
	var t table
	listener := r.Listener
	if c := r.Connection; c != nil {
		switch {
		case c.TLS && c.SNI != "":
			listener += fmt.Sprintf("  (TLS, SNI %s)", c.SNI)
		case c.TLS:
			listener += "  (TLS, no SNI)"
		default:
			listener += "  (plaintext)"
		}
	}
	t.add("listener", listener)
	t.add("filter chain", r.FilterChain)
	if c := r.TLS; c != nil {
		tlsText(&t, c)
	}
	if r.ConnectionLimit > 0 {
		t.add("connection limit", fmt.Sprintf("%d concurrent connections", r.ConnectionLimit))
	}
	for _, c := range r.RBAC {
		t.add("rbac", rbacText(c))
	}
	t.add("route config", r.RouteConfig)
	t.add("virtual host", r.VirtualHost)
	switch {
	case r.Route != nil:
		t.add("route", fmt.Sprintf("%s/%s rules[%d] matches[%d]  (Envoy route %s)", r.Route.Mesh, r.Route.Name, r.Route.Rule, r.Route.Match, r.Route.EnvoyRoute))
	case r.EnvoyRoute != "":
		t.add("route", fmt.Sprintf("Envoy route %s", r.EnvoyRoute))
	}
	t.add("match", matchText(r.Match))
	for _, f := range r.Faults {
		t.add("fault", faultText(f))
	}
	if a := r.Action; a != nil {
		actionText(&t, a)
	}
	policyLines(&t, r)
	if len(r.PerFilterConfig) > 0 {
		t.add("per-route filters", strings.Join(r.PerFilterConfig, ", "))
	}
	t.add("reason", r.Reason)
	for _, n := range r.Notes {
		t.add("note", n)
	}
	return t.String()
}

func actionText(t *table, a *Action) {
	switch {
	case a.Close:
		t.add("action", "close the connection")
	case a.Serve:
		t.add("action", "served by the gRPC server itself")
	case a.DirectResponse != nil:
		d := a.DirectResponse
		s := fmt.Sprintf("respond %d", d.Status)
		if d.Body != "" {
			s += fmt.Sprintf(" %q", d.Body)
		} else if d.BodyFile != "" {
			s += " with the body of " + d.BodyFile
		}
		t.add("action", s)
	case a.Redirect != nil:
		t.add("action", fmt.Sprintf("redirect %d to %s", a.Redirect.StatusCode, a.Redirect.Location))
	case len(a.Forward) == 1:
		t.add("action", "forward to "+backendsText(a.Forward)[0])
	case len(a.Forward) > 1:
		t.add("action", fmt.Sprintf("forward, split by weight across %d clusters:", len(a.Forward)))
		for _, l := range backendsText(a.Forward) {
			t.add("", "  "+l)
		}
	}
	if rw := a.Rewrite; rw != nil {
		var parts []string
		switch {
		case rw.Prefix != "":
			parts = append(parts, fmt.Sprintf("prefix %s -> %s", rw.Replaces, rw.Prefix))
		case rw.Regex != nil:
			parts = append(parts, fmt.Sprintf("path %s -> %s", rw.Regex.Pattern, rw.Regex.Substitution))
		case rw.FullPath != "":
			parts = append(parts, "path -> "+rw.FullPath)
		}
		switch {
		case rw.Host != "":
			parts = append(parts, "host -> "+rw.Host)
		case rw.AutoHost:
			parts = append(parts, "host -> the endpoint's hostname")
		case rw.HostFromHeader != "":
			parts = append(parts, "host -> header "+rw.HostFromHeader)
		case rw.HostRegex != nil:
			parts = append(parts, fmt.Sprintf("host -> %s from the path", rw.HostRegex.Substitution))
		}
		t.add("rewrite", strings.Join(parts, "; "))
	}
	for _, b := range a.Forward {
		prefix := ""
		if len(a.Forward) > 1 {
			prefix = b.Cluster + ": "
		}
		// A plain EDS cluster is all said by the action line (its endpoint count).
		if b.Type != "" && (b.Type != "EDS" || b.TLS != nil) {
			t.add("cluster", prefix+clusterText(b))
		}
		if b.TLS != nil {
			t.add("upstream tls", prefix+upstreamTLSText(b.TLS))
		}
	}
	if len(a.Forward) > 0 {
		t.add("upstream", a.UpstreamHost+a.UpstreamPath)
	}
	t.add("request headers", headersText(a.RequestHeaders))
	t.add("response headers", headersText(a.ResponseHeaders))
	for _, m := range a.Mirrors {
		s := fmt.Sprintf("%s (%g%%)", m.Cluster, m.Percent)
		if m.Missing {
			s += "  MISSING"
		}
		t.add("mirror", s)
	}
	if len(a.Forward) > 0 {
		t.add("timeout", a.Timeout)
	}
	t.add("idle timeout", a.IdleTimeout)
	if rp := a.Retry; rp != nil {
		t.add("retry", retryText(rp))
	}
	if rl := a.RateLimit; rl != nil {
		t.add("rate limit", rateLimitText(rl))
	}
	if a.MaxConnectAttempts > 0 {
		t.add("connect attempts", fmt.Sprint(a.MaxConnectAttempts))
	}
}

// policyLines are the route's (or TCP chain's) policy decisions, then each backend cluster's
// decisions and policy settings.
func policyLines(t *table, r *Result) {
	policiesText(t, "policy", "", r.Policies)
	if r.Action == nil {
		return
	}
	for _, b := range r.Action.Forward {
		prefix := ""
		if len(r.Action.Forward) > 1 {
			prefix = b.Cluster + ": "
		}
		policiesText(t, "cluster policy", prefix, b.Policies)
		clusterSettingsText(t, prefix, b.ClusterSettings)
	}
}

// backendsText describes each cluster on a line of its own.
func backendsText(bs []Backend) []string {
	lines := make([]string, len(bs))
	for i, b := range bs {
		name := b.Cluster
		if name == "" {
			name = `""`
		}
		s := name
		if len(bs) > 1 {
			s += fmt.Sprintf("  weight %d", b.Weight)
		}
		if len(b.Destination) > 0 {
			s += "  " + tagsText(b.Destination)
		} else if b.Service != "" {
			s += "  service " + b.Service
		}
		if b.FromHeader != "" {
			s += "  (from header " + b.FromHeader + ")"
		}
		switch {
		case b.Missing && b.Status != 0:
			s += fmt.Sprintf("  MISSING: Envoy answers %d", b.Status)
		case b.Missing:
			s += "  MISSING: Envoy closes the connection"
		case b.Endpoints != nil && *b.Endpoints == 1:
			s += "  1 endpoint"
		case b.Endpoints != nil:
			s += fmt.Sprintf("  %d endpoints", *b.Endpoints)
		}
		lines[i] = s
	}
	return lines
}

func tagsText(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func headersText(h *HeaderChanges) string {
	if h == nil {
		return ""
	}
	var parts []string
	for _, n := range h.Remove {
		parts = append(parts, "remove "+n)
	}
	for _, v := range h.Set {
		s := fmt.Sprintf("set %s: %s", v.Name, v.Value)
		if v.IfPresent {
			s += " (if present)"
		}
		parts = append(parts, s)
	}
	for _, v := range h.Add {
		s := fmt.Sprintf("add %s: %s", v.Name, v.Value)
		if v.IfAbsent {
			s += " (if absent)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func matchText(m *Match) string {
	if m == nil {
		return ""
	}
	var parts []string
	switch {
	case m.Prefix != nil:
		parts = append(parts, "prefix "+*m.Prefix)
	case m.Path != nil:
		parts = append(parts, "path "+*m.Path)
	case m.Regex != nil:
		parts = append(parts, "path regex "+*m.Regex)
	case m.PathSeparatedPrefix != nil:
		parts = append(parts, "path prefix "+*m.PathSeparatedPrefix+" (whole segments)")
	case m.Connect:
		parts = append(parts, "CONNECT")
	}
	if m.IgnoreCase && len(parts) > 0 {
		parts[0] += " (any case)"
	}
	if m.Grpc {
		parts = append(parts, "gRPC")
	}
	for _, h := range m.Headers {
		parts = append(parts, headerMatchText(h))
	}
	for _, q := range m.QueryParameters {
		if q.Present != nil {
			parts = append(parts, "query "+q.Name+" present")
		} else {
			parts = append(parts, "query "+q.Name+" "+stringMatchText(q.StringMatch))
		}
	}
	for _, c := range m.Cookies {
		s := "cookie " + c.Name + " " + stringMatchText(c.StringMatch)
		if c.Invert {
			s = "not " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func headerMatchText(h HeaderMatch) string {
	var s string
	switch {
	case h.Present != nil && *h.Present != h.Invert:
		s = h.Name + " present"
	case h.Present != nil:
		s = h.Name + " absent"
	case h.Range != "":
		s = h.Name + " in " + h.Range
	default:
		s = h.Name + " " + stringMatchText(h.StringMatch)
	}
	if h.Invert && h.Present == nil {
		s = "not " + s
	}
	return s
}

// tlsText is the client certificate check: what the chain requires, then the peer's fate.
func tlsText(t *table, c *TLSCheck) {
	var req []string
	v := c.Validation
	if c.Validator == "spiffe" {
		switch {
		case c.Unchecked:
			v += " (SPIFFE validator, served by the control plane)"
		default:
			v += " (SPIFFE validator: " + strings.Join(c.TrustDomains, ", ") + ")"
		}
	}
	if v != "" {
		req = append(req, v)
	}
	if len(c.SANs) > 0 {
		req = append(req, sansText(c.SANs))
	}
	s := "requires a client certificate"
	if len(req) > 0 {
		s += ": " + strings.Join(req, ", ")
	}
	t.add("tls", s)
	switch {
	case c.Peer == "":
		t.add("peer", "none: "+c.Reason)
	case !c.Accepted && c.PeerTrustDomain != "":
		t.add("peer", fmt.Sprintf("%s  (trust domain %s: refused)", c.Peer, c.PeerTrustDomain))
	case !c.Accepted:
		t.add("peer", fmt.Sprintf("%s  (refused)", c.Peer))
	case c.Unchecked:
		t.add("peer", fmt.Sprintf("%s  (trust domain %s: not known to the resources)", c.Peer, c.PeerTrustDomain))
	case c.PeerTrustDomain != "":
		t.add("peer", fmt.Sprintf("%s  (trust domain %s: trusted)", c.Peer, c.PeerTrustDomain))
	default:
		t.add("peer", fmt.Sprintf("%s  (accepted)", c.Peer))
	}
}

func rbacText(c RBACCheck) string {
	who := c.Peer
	if who == "" {
		who = "a client without a certificate"
	}
	considered := ""
	if len(c.Considered) > 0 {
		considered = " (considered: " + strings.Join(c.Considered, ", ") + ")"
	}
	switch {
	case c.Allowed && c.Policy != "":
		return fmt.Sprintf("allowed by %s (principal %s)", c.Policy, c.Principal)
	case c.Allowed && c.Action == "DENY":
		return "allowed: no DENY policy matches " + who + considered
	case c.Allowed:
		return "allowed: the filter has no rules"
	case c.Policy != "":
		return fmt.Sprintf("denied by %s (principal %s)", c.Policy, c.Principal)
	case len(c.Considered) == 0:
		return "denied: the filter has no policies, so it admits nobody"
	}
	return "denied: no policy admits " + who + considered
}

func faultText(f Fault) string {
	var parts []string
	if f.Delay != "" {
		parts = append(parts, fmt.Sprintf("delay %s (%g%%)", f.Delay, f.DelayPercent))
	}
	if f.Abort != "" {
		parts = append(parts, fmt.Sprintf("abort %s (%g%%)", f.Abort, f.AbortPercent))
	}
	if f.ResponseRateLimitKbps > 0 {
		parts = append(parts, fmt.Sprintf("response limited to %d kbps (%g%%)", f.ResponseRateLimitKbps, f.ResponseRateLimitPercent))
	}
	s := strings.Join(parts, "; ")
	if s == "" {
		s = "nothing to inject"
	}
	if f.Applies {
		return s
	}
	hs := make([]string, len(f.Headers))
	for i, h := range f.Headers {
		hs[i] = headerMatchText(h)
	}
	return fmt.Sprintf("not applied (needs %s): %s", strings.Join(hs, ", "), s)
}

func clusterText(b Backend) string {
	switch {
	case b.Type == "ORIGINAL_DST":
		return "ORIGINAL_DST (the connection's original destination)"
	case len(b.Addresses) == 0:
		return b.Type + " (no endpoints)"
	case len(b.Addresses) > 4:
		return fmt.Sprintf("%s %s and %d more", b.Type, strings.Join(b.Addresses[:4], ", "), len(b.Addresses)-4)
	}
	s := b.Type + " " + strings.Join(b.Addresses, ", ")
	if b.SourceAddress != "" {
		s += " from " + b.SourceAddress
	}
	return s
}

func upstreamTLSText(u *UpstreamTLS) string {
	var parts []string
	if len(u.Identity) > 0 {
		parts = append(parts, "presents "+strings.Join(u.Identity, ", "))
	} else if u.SNI != "" {
		parts = append(parts, "SNI "+u.SNI)
	}
	switch {
	case !u.Verified:
		parts = append(parts, "server not verified (no validation context)")
	case len(u.ServerSANs) > 0:
		parts = append(parts, fmt.Sprintf("requires %s (%s)", sansText(u.ServerSANs), u.Validation))
	default:
		parts = append(parts, "requires a certificate from "+u.Validation)
	}
	return strings.Join(parts, "; ")
}

// sansText: `URI SAN prefix spiffe://payments/`; an exact URI is just the URI.
func sansText(sans []SANMatch) string {
	parts := make([]string, len(sans))
	for i, s := range sans {
		switch {
		case s.Type == "URI" && s.Exact != nil && !s.IgnoreCase:
			parts[i] = *s.Exact
		case s.Type != "":
			parts[i] = s.Type + " SAN " + stringMatchWords(s.StringMatch)
		default:
			parts[i] = "SAN " + stringMatchWords(s.StringMatch)
		}
	}
	return strings.Join(parts, " or ")
}

// stringMatchWords names the matcher's kind: `prefix spiffe://shop/`, `regex ^a$`.
func stringMatchWords(s StringMatch) string {
	var out string
	switch {
	case s.Exact != nil:
		out = *s.Exact
	case s.Prefix != nil:
		out = "prefix " + *s.Prefix
	case s.Suffix != nil:
		out = "suffix " + *s.Suffix
	case s.Contains != nil:
		out = "containing " + *s.Contains
	case s.Regex != nil:
		out = "regex " + *s.Regex
	default:
		out = "(unsupported matcher)"
	}
	if s.IgnoreCase {
		out += " (any case)"
	}
	return out
}

func stringMatchText(s StringMatch) string {
	var out string
	switch {
	case s.Exact != nil:
		out = "= " + *s.Exact
	case s.Prefix != nil:
		out = "starts with " + *s.Prefix
	case s.Suffix != nil:
		out = "ends with " + *s.Suffix
	case s.Contains != nil:
		out = "contains " + *s.Contains
	case s.Regex != nil:
		out = "~ " + *s.Regex
	default:
		out = "(unsupported matcher)"
	}
	if s.IgnoreCase {
		out += " (any case)"
	}
	return out
}

// table aligns labelled lines; a multi-line value continues under its first line.
// indent is put before the labels added while it is set.
type table struct {
	rows   [][2]string
	indent string
}

// add skips empty values so that steps that did not happen leave no line.
func (t *table) add(label, value string) {
	if value != "" {
		if label != "" {
			label = t.indent + label
		}
		t.rows = append(t.rows, [2]string{label, value})
	}
}

func (t *table) String() string {
	w := 0
	for _, r := range t.rows {
		w = max(w, len(r[0]))
	}
	var b strings.Builder
	for _, r := range t.rows {
		lines := strings.Split(r[1], "\n")
		for i, l := range lines {
			label := r[0]
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(&b, "%-*s  %s\n", w, label, l)
		}
	}
	return b.String()
}
