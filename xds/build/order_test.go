package build

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
)

func mkEntry(route string, rule int, kind ir.PathKind, path, method string, headers int) entry {
	e := entry{route: &api.MeshGatewayRoute{Meta: api.Meta{Name: route}}, rule: rule,
		m: ir.RouteMatch{Path: ir.PathMatch{Kind: kind, Value: path}, Method: method}}
	for i := 0; i < headers; i++ {
		e.m.Headers = append(e.m.Headers, ir.HeaderMatch{Name: "h", Kind: ir.HeaderPresent})
	}
	return e
}

func entryNames(es []entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.name() + " " + string(e.m.Path.Kind) + " " + e.m.Path.Value
	}
	return out
}

func TestSortEntriesPrecedence(t *testing.T) {
	want := []entry{
		mkEntry("r", 0, ir.PathExact, "/match/bar", "", 0),
		mkEntry("r", 1, ir.PathExact, "/match/baz", "", 0),
		mkEntry("r", 1, ir.PathPrefix, "/match/baz/", "", 0),
		mkEntry("r", 2, ir.PathPrefix, "/", "GET", 0),
		mkEntry("r", 3, ir.PathPrefix, "/", "", 2),
		mkEntry("r", 4, ir.PathPrefix, "/", "", 1),
		mkEntry("r", 5, ir.PathRegex, "/match/foo.*", "", 0),
		mkEntry("r", 6, ir.PathRegex, "/x", "", 0),
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		got := append([]entry(nil), want...)
		rng.Shuffle(len(got), func(a, b int) { got[a], got[b] = got[b], got[a] })
		sortEntries(got)
		assert.Equal(t, entryNames(want), entryNames(got))
	}
}

func TestSortEntriesTieBreakIsTotal(t *testing.T) {
	a := mkEntry("alpha", 0, ir.PathPrefix, "/api/", "", 0)
	b := mkEntry("beta", 0, ir.PathPrefix, "/api/", "", 0)
	c := mkEntry("alpha", 1, ir.PathPrefix, "/api/", "", 0)
	for _, in := range [][]entry{{a, b, c}, {c, b, a}, {b, c, a}} {
		got := append([]entry(nil), in...)
		sortEntries(got)
		assert.Equal(t, entryNames([]entry{a, c, b}), entryNames(got))
	}
}

func TestExpandPrefixes(t *testing.T) {
	rule := func(filters ...api.HTTPFilter) api.HTTPRule { return api.HTTPRule{Filters: filters} }
	route := func(r api.HTTPRule) *api.MeshGatewayRoute {
		return &api.MeshGatewayRoute{Meta: api.Meta{Name: "r"}, Spec: api.MeshGatewayRouteSpec{
			Conf: &api.RouteConf{HTTP: &api.HTTPRoute{Rules: []api.HTTPRule{r}}}}}
	}
	rewrite := func(p string) api.HTTPFilter {
		return api.HTTPFilter{Rewrite: &api.Rewrite{ReplacePrefixMatch: p}}
	}
	type out struct {
		Kind          ir.PathKind
		Path          string
		PrefixRewrite string
		FullRewrite   string
	}
	cases := []struct {
		name   string
		rule   api.HTTPRule
		prefix string
		extra  []entry
		want   []out
	}{
		{"plain prefix", rule(), "/api", nil, []out{{ir.PathPrefix, "/api/", "", ""}, {ir.PathExact, "/api", "", ""}}},
		{"trailing slash", rule(rewrite("/a")), "/prefix/a/", nil, []out{
			{ir.PathPrefix, "/prefix/a/", "/a/", ""}, {ir.PathExact, "/prefix/a", "", "/a"}}},
		{"drop prefix", rule(rewrite("/")), "/prefix", nil, []out{
			{ir.PathPrefix, "/prefix/", "/", ""}, {ir.PathExact, "/prefix", "", "/"}}},
		{"root with rewrite", rule(rewrite("/a/b")), "/", nil, []out{
			{ir.PathPrefix, "/", "/a/b/", ""}, {ir.PathExact, "/", "", "/a/b"}}},
		{"root without rewrite", rule(), "/", nil, []out{{ir.PathPrefix, "/", "", ""}}},
		{"exact elsewhere wins", rule(), "/api", []entry{mkEntry("other", 0, ir.PathExact, "/api", "", 0)}, []out{
			{ir.PathPrefix, "/api/", "", ""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &builder{proxy: &ir.Proxy{}}
			in := []entry{{route: route(c.rule), m: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: c.prefix}}}}
			for _, e := range c.extra {
				e.route.Spec.Conf = &api.RouteConf{HTTP: &api.HTTPRoute{Rules: []api.HTTPRule{{}}}}
				in = append(in, e)
			}
			var got []out
			for _, e := range b.expandPrefixes(in) {
				if e.route.Name == "r" {
					got = append(got, out{e.m.Path.Kind, e.m.Path.Value, e.prefixRewrite, e.fullRewrite})
				}
			}
			assert.Equal(t, c.want, got)
		})
	}
}
