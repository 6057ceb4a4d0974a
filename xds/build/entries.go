package build

import (
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// entry is one future Envoy route: one match of one rule of one MeshGatewayRoute, after the
// path-prefix expansion of docs/kuma-compatibility.md#route-entries.
type entry struct {
	route *api.MeshGatewayRoute
	// host is the listener the route is placed on; its tags select connection policies.
	host  *host
	rule  int
	match int
	// exactFromPrefix marks the exact-path twin a prefix match gets (`/api` next to `/api/`).
	exactFromPrefix bool
	m               ir.RouteMatch
	// prefixRewrite is the rule's replacePrefixMatch (forward or redirect) as it applies to this
	// entry's path, already adjusted for the expansion.
	prefixRewrite string
	fullRewrite   string
}

// routeTable turns the routes of one virtual host into ordered IR routes.
func (b *builder) routeTable(places []placement) []ir.Route {
	var entries []entry
	for _, p := range places {
		for ri, rule := range p.route.Spec.Conf.HTTP.Rules {
			for mi, m := range rule.Matches {
				entries = append(entries, entry{route: p.route, host: p.host, rule: ri, match: mi, m: irMatch(m)})
			}
		}
	}
	entries = b.expandPrefixes(entries)
	sortEntries(entries)
	out := make([]ir.Route, 0, len(entries))
	for _, e := range entries {
		if r, ok := b.irRoute(e); ok {
			out = append(out, r)
		}
	}
	return out
}

func irMatch(m api.HTTPMatch) ir.RouteMatch {
	out := ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}, Method: m.Method}
	if m.Path != nil {
		switch m.Path.Type() {
		case api.PathExact:
			out.Path = ir.PathMatch{Kind: ir.PathExact, Value: m.Path.Value}
		case api.PathPrefix:
			out.Path = ir.PathMatch{Kind: ir.PathPrefix, Value: m.Path.Value}
		case api.PathRegex:
			out.Path = ir.PathMatch{Kind: ir.PathRegex, Value: m.Path.Value}
		}
	}
	for _, h := range m.Headers {
		kind := map[api.HeaderMatchType]ir.HeaderMatchKind{
			api.HeaderExact: ir.HeaderExact, api.HeaderRegex: ir.HeaderRegex,
			api.HeaderPresent: ir.HeaderPresent, api.HeaderAbsent: ir.HeaderAbsent,
		}[h.Type()]
		out.Headers = append(out.Headers, ir.HeaderMatch{Name: strings.ToLower(h.Name), Kind: kind, Value: h.Value})
	}
	for _, q := range m.QueryParameters {
		kind := ir.QueryExact
		if q.Type() == api.QueryRegex {
			kind = ir.QueryRegex
		}
		out.Query = append(out.Query, ir.QueryMatch{Name: q.Name, Kind: kind, Value: q.Value})
	}
	return out
}

// replacePrefix is the replacePrefixMatch a rule applies, from its rewrite or redirect filter.
func replacePrefix(rule api.HTTPRule) (string, bool) {
	for _, f := range rule.Filters {
		if f.Rewrite != nil && f.Rewrite.ReplacePrefixMatch != "" {
			return f.Rewrite.ReplacePrefixMatch, true
		}
		if f.Redirect != nil && f.Redirect.Path != nil && f.Redirect.Path.ReplacePrefixMatch != "" {
			return f.Redirect.Path.ReplacePrefixMatch, true
		}
	}
	return "", false
}

// expandPrefixes gives prefix matches path-element semantics on top of Envoy's byte prefixes
// (docs/kuma-compatibility.md#route-entries): PREFIX `/api` serves `/api` and `/api/...` but not `/apis`.
func (b *builder) expandPrefixes(in []entry) []entry {
	exact := map[string]bool{}
	for _, e := range in {
		if e.m.Path.Kind == ir.PathExact {
			exact[e.m.Path.Value] = true
		}
	}
	out := make([]entry, 0, len(in))
	for _, e := range in {
		rule := e.route.Spec.Conf.HTTP.Rules[e.rule]
		repl, hasRepl := replacePrefix(rule)
		switch e.m.Path.Kind {
		case ir.PathExact:
			if hasRepl {
				// An exact match's "prefix" is the whole path.
				e.fullRewrite = repl
			}
			out = append(out, e)
		case ir.PathRegex:
			if hasRepl {
				b.diag(&e.route.Meta, fieldPath(e, "path"), "replacePrefixMatch cannot apply to a REGEX path match; match skipped")
				continue
			}
			out = append(out, e)
		case ir.PathPrefix:
			base := strings.TrimRight(e.m.Path.Value, "/")
			trimmed := strings.TrimRight(repl, "/")
			pe := e
			pe.m.Path.Value = base + "/"
			if hasRepl {
				pe.prefixRewrite = trimmed + "/"
			}
			out = append(out, pe)
			exactPath := base
			if exactPath == "" {
				exactPath = "/"
			}
			// The root prefix already covers `/` unless a rewrite has to treat it differently.
			if exact[exactPath] || (base == "" && !hasRepl) {
				continue
			}
			ee := e
			ee.exactFromPrefix = true
			ee.m.Path = ir.PathMatch{Kind: ir.PathExact, Value: exactPath}
			if hasRepl {
				ee.fullRewrite = trimmed
				if ee.fullRewrite == "" {
					ee.fullRewrite = "/"
				}
			}
			out = append(out, ee)
		}
	}
	return out
}

func fieldPath(e entry, leaf string) string {
	return "conf.http.rules[" + itoa(e.rule) + "].matches[" + itoa(e.match) + "]." + leaf
}

func (e entry) name() string {
	if e.exactFromPrefix {
		return names.RouteExact(e.route.Name, e.rule, e.match)
	}
	return names.Route(e.route.Name, e.rule, e.match)
}
