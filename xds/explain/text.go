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
	if r.ConnectionLimit > 0 {
		t.add("connection limit", fmt.Sprintf("%d concurrent connections", r.ConnectionLimit))
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
	if a := r.Action; a != nil {
		actionText(&t, a)
	}
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
		s := fmt.Sprintf("%d on %s", rp.NumRetries, rp.RetryOn)
		if rp.PerTryTimeout != "" {
			s += ", " + rp.PerTryTimeout + " per try"
		}
		t.add("retry", s)
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
		parts = append(parts, s)
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
type table struct{ rows [][2]string }

// add skips empty values so that steps that did not happen leave no line.
func (t *table) add(label, value string) {
	if value != "" {
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
