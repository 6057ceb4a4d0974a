package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

func prefix(p string) ir.RouteMatch {
	return ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: p}}
}

func forwardTo(clusters ...ir.WeightedCluster) ir.Route {
	return ir.Route{Name: "r", Match: prefix("/"), Forward: &ir.Forward{Clusters: clusters}}
}

func translateRoute(t *testing.T, r ir.Route) *routev3.Route {
	t.Helper()
	out, err := route(r)
	require.NoError(t, err)
	requireValid(t, out)
	return out
}

func TestRouteConfigAndVirtualHost(t *testing.T) {
	rc, err := routeConfig(ir.RouteConfig{
		Name:                   "gw:HTTPS:8443:a.example.com",
		RequestHeadersToRemove: []string{"x-kuma-tags"},
		VirtualHosts: []ir.VirtualHost{
			{
				Name: "a.example.com", Domains: []string{"a.example.com"}, RequireTLS: true,
				ResponseHeadersToAdd: []ir.Header{{Name: "Strict-Transport-Security", Value: "max-age=31536000; includeSubDomains"}},
				Routes:               []ir.Route{forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})},
			},
			{Name: "*", Domains: []string{"*"}},
		},
	})
	require.NoError(t, err)
	requireValid(t, rc)

	assert.Equal(t, "gw:HTTPS:8443:a.example.com", rc.GetName())
	require.NotNil(t, rc.GetValidateClusters())
	assert.False(t, rc.GetValidateClusters().GetValue())
	assert.True(t, rc.GetIgnorePortInHostMatching())
	assert.True(t, rc.GetMostSpecificHeaderMutationsWins(), "route-level x-kuma-tags must survive the config-level removal")
	assert.Equal(t, []string{"x-kuma-tags"}, rc.GetRequestHeadersToRemove())

	require.Len(t, rc.GetVirtualHosts(), 2)
	vh := rc.GetVirtualHosts()[0]
	assert.Equal(t, "a.example.com", vh.GetName())
	assert.Equal(t, []string{"a.example.com"}, vh.GetDomains())
	assert.Equal(t, routev3.VirtualHost_ALL, vh.GetRequireTls())
	require.Len(t, vh.GetResponseHeadersToAdd(), 1)
	hsts := vh.GetResponseHeadersToAdd()[0]
	assert.Equal(t, "Strict-Transport-Security", hsts.GetHeader().GetKey())
	assert.Equal(t, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD, hsts.GetAppendAction())
	assert.Len(t, vh.GetRoutes(), 1)

	assert.Equal(t, routev3.VirtualHost_NONE, rc.GetVirtualHosts()[1].GetRequireTls())
	assert.Equal(t, "*", rc.GetVirtualHosts()[1].GetName(), "virtual hosts keep IR order")
}

func TestRouteOriginMetadata(t *testing.T) {
	r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
	r.Name = "edge/rules[2]/matches[1]"
	r.Origin = &ir.RouteOrigin{Mesh: "default", Route: "edge", Rule: 2, Match: 1}
	out := translateRoute(t, r)

	assert.Equal(t, "edge/rules[2]/matches[1]", out.GetName())
	md := out.GetMetadata().GetFilterMetadata()[names.MetadataNamespace]
	require.NotNil(t, md)
	want, err := structpb.NewStruct(map[string]any{"mesh": "default", "route": "edge", "rule": 2, "match": 1})
	require.NoError(t, err)
	assert.Equal(t, want.AsMap(), md.AsMap())

	assert.Nil(t, translateRoute(t, forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})).GetMetadata(), "generated routes carry no origin")
}

func TestRouteMatch(t *testing.T) {
	cases := []struct {
		name  string
		match ir.RouteMatch
		check func(t *testing.T, m *routev3.RouteMatch)
	}{
		{"exact", ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathExact, Value: "/api"}}, func(t *testing.T, m *routev3.RouteMatch) {
			assert.Equal(t, "/api", m.GetPath())
		}},
		{"prefix", prefix("/api/"), func(t *testing.T, m *routev3.RouteMatch) {
			assert.Equal(t, "/api/", m.GetPrefix())
		}},
		{"regex", ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathRegex, Value: "/v[0-9]+/.*"}}, func(t *testing.T, m *routev3.RouteMatch) {
			assert.Equal(t, "/v[0-9]+/.*", m.GetSafeRegex().GetRegex())
		}},
		{"method", ir.RouteMatch{Path: prefix("/").Path, Method: "POST"}, func(t *testing.T, m *routev3.RouteMatch) {
			require.Len(t, m.GetHeaders(), 1)
			assert.Equal(t, ":method", m.GetHeaders()[0].GetName())
			assert.Equal(t, "POST", m.GetHeaders()[0].GetStringMatch().GetExact())
		}},
		{"headers", ir.RouteMatch{Path: prefix("/").Path, Method: "GET", Headers: []ir.HeaderMatch{
			{Name: "x-exact", Kind: ir.HeaderExact, Value: "v"},
			{Name: "x-regex", Kind: ir.HeaderRegex, Value: "v.*"},
			{Name: "x-present", Kind: ir.HeaderPresent},
			{Name: "x-absent", Kind: ir.HeaderAbsent},
		}}, func(t *testing.T, m *routev3.RouteMatch) {
			hs := m.GetHeaders()
			require.Len(t, hs, 5)
			assert.Equal(t, ":method", hs[0].GetName(), "method first")
			assert.Equal(t, "v", hs[1].GetStringMatch().GetExact())
			assert.Equal(t, "v.*", hs[2].GetStringMatch().GetSafeRegex().GetRegex())
			assert.Equal(t, "x-present", hs[3].GetName())
			assert.True(t, hs[3].GetPresentMatch())
			assert.Equal(t, "x-absent", hs[4].GetName())
			// present_match false is Envoy's "header must be absent"; it must be set, not
			// defaulted, or Envoy would treat the matcher as a presence check.
			_, set := hs[4].GetHeaderMatchSpecifier().(*routev3.HeaderMatcher_PresentMatch)
			assert.True(t, set)
			assert.False(t, hs[4].GetPresentMatch())
			assert.False(t, hs[4].GetInvertMatch())
		}},
		{"query", ir.RouteMatch{Path: prefix("/").Path, Query: []ir.QueryMatch{
			{Name: "a", Kind: ir.QueryExact, Value: "1"},
			{Name: "b", Kind: ir.QueryRegex, Value: "[0-9]+"},
		}}, func(t *testing.T, m *routev3.RouteMatch) {
			qs := m.GetQueryParameters()
			require.Len(t, qs, 2)
			assert.Equal(t, "a", qs[0].GetName())
			assert.Equal(t, "1", qs[0].GetStringMatch().GetExact())
			assert.Equal(t, "b", qs[1].GetName())
			assert.Equal(t, "[0-9]+", qs[1].GetStringMatch().GetSafeRegex().GetRegex())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
			r.Match = c.match
			c.check(t, translateRoute(t, r).GetMatch())
		})
	}
}

func TestRouteHeaderMutations(t *testing.T) {
	r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
	r.RequestHeaders = ir.HeaderMutation{Set: []ir.Header{{Name: "X-Set", Value: "1"}}, Add: []ir.Header{{Name: "X-Add", Value: "2"}}, Remove: []string{"x-gone"}}
	r.ResponseHeaders = ir.HeaderMutation{Add: []ir.Header{{Name: "X-Resp", Value: "3"}}, Remove: []string{"server"}}
	out := translateRoute(t, r)

	req := out.GetRequestHeadersToAdd()
	require.Len(t, req, 2)
	assert.Equal(t, "X-Set", req[0].GetHeader().GetKey())
	assert.Equal(t, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD, req[0].GetAppendAction())
	assert.Equal(t, "X-Add", req[1].GetHeader().GetKey())
	assert.Equal(t, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD, req[1].GetAppendAction())
	assert.Equal(t, []string{"x-gone"}, out.GetRequestHeadersToRemove())

	resp := out.GetResponseHeadersToAdd()
	require.Len(t, resp, 1)
	assert.Equal(t, "3", resp[0].GetHeader().GetValue())
	assert.Equal(t, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD, resp[0].GetAppendAction())
	assert.Equal(t, []string{"server"}, out.GetResponseHeadersToRemove())
}

func TestRouteForwardSingleCluster(t *testing.T) {
	r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1, RequestHeadersToAdd: []ir.Header{{Name: "x-kuma-tags", Value: "&kuma.io/service=gw&"}}})
	r.RequestHeaders.Set = []ir.Header{{Name: "x-kuma-tags", Value: "override"}}
	out := translateRoute(t, r)

	ra := out.GetRoute()
	assert.Equal(t, "api", ra.GetCluster())
	assert.Nil(t, ra.GetWeightedClusters())
	assert.Equal(t, routev3.RouteAction_INTERNAL_SERVER_ERROR, ra.GetClusterNotFoundResponseCode())
	hs := out.GetRequestHeadersToAdd()
	require.Len(t, hs, 2)
	assert.Equal(t, "&kuma.io/service=gw&", hs[0].GetHeader().GetValue(), "cluster headers first, as Envoy orders them")
	assert.Equal(t, "override", hs[1].GetHeader().GetValue())
}

func TestRouteForwardWeightedClusters(t *testing.T) {
	r := forwardTo(
		ir.WeightedCluster{Name: "b", Weight: 3, RequestHeadersToAdd: []ir.Header{{Name: "x-kuma-tags", Value: "t"}}},
		ir.WeightedCluster{Name: names.UnresolvedBackend, Weight: 0},
		ir.WeightedCluster{Name: "a", Weight: 1},
	)
	out := translateRoute(t, r)
	ra := out.GetRoute()
	assert.Empty(t, ra.GetCluster())
	wc := ra.GetWeightedClusters().GetClusters()
	require.Len(t, wc, 3)
	assert.Equal(t, []string{"b", names.UnresolvedBackend, "a"}, []string{wc[0].GetName(), wc[1].GetName(), wc[2].GetName()}, "IR order")
	assert.Equal(t, uint32(3), wc[0].GetWeight().GetValue())
	require.NotNil(t, wc[1].GetWeight())
	assert.Equal(t, uint32(0), wc[1].GetWeight().GetValue())
	require.Len(t, wc[0].GetRequestHeadersToAdd(), 1)
	assert.Equal(t, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD, wc[0].GetRequestHeadersToAdd()[0].GetAppendAction())
	assert.Empty(t, out.GetRequestHeadersToAdd())
	assert.Equal(t, routev3.RouteAction_INTERNAL_SERVER_ERROR, ra.GetClusterNotFoundResponseCode())
}

func TestRouteForwardOptions(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(f *ir.Forward)
		check func(t *testing.T, ra *routev3.RouteAction)
	}{
		{"prefix rewrite", func(f *ir.Forward) { f.PrefixRewrite = "/v2/" }, func(t *testing.T, ra *routev3.RouteAction) {
			assert.Equal(t, "/v2/", ra.GetPrefixRewrite())
			assert.Nil(t, ra.GetRegexRewrite())
		}},
		{"full path rewrite", func(f *ir.Forward) { f.FullPathRewrite = "/a" }, func(t *testing.T, ra *routev3.RouteAction) {
			assert.Equal(t, ".*", ra.GetRegexRewrite().GetPattern().GetRegex())
			assert.Equal(t, "/a", ra.GetRegexRewrite().GetSubstitution())
			assert.Empty(t, ra.GetPrefixRewrite())
		}},
		{"host literal", func(f *ir.Forward) { f.HostRewrite = "example.com" }, func(t *testing.T, ra *routev3.RouteAction) {
			assert.Equal(t, "example.com", ra.GetHostRewriteLiteral())
		}},
		{"auto host", func(f *ir.Forward) { f.AutoHostRewrite = true }, func(t *testing.T, ra *routev3.RouteAction) {
			assert.True(t, ra.GetAutoHostRewrite().GetValue())
		}},
		{"timeouts", func(f *ir.Forward) { f.Timeout, f.IdleTimeout = 15*time.Second, 5*time.Second }, func(t *testing.T, ra *routev3.RouteAction) {
			assert.Equal(t, 15*time.Second, ra.GetTimeout().AsDuration())
			assert.Equal(t, 5*time.Second, ra.GetIdleTimeout().AsDuration())
		}},
		{"zero timeouts omitted", func(f *ir.Forward) {}, func(t *testing.T, ra *routev3.RouteAction) {
			assert.Nil(t, ra.GetTimeout())
			assert.Nil(t, ra.GetIdleTimeout())
			assert.Nil(t, ra.GetHostRewriteSpecifier())
			assert.Empty(t, ra.GetRequestMirrorPolicies())
		}},
		{"mirrors", func(f *ir.Forward) {
			f.Mirrors = []ir.Mirror{{Cluster: "m1", Percent: 50}, {Cluster: "m2", Percent: 0.001}}
		}, func(t *testing.T, ra *routev3.RouteAction) {
			ms := ra.GetRequestMirrorPolicies()
			require.Len(t, ms, 2)
			assert.Equal(t, "m1", ms[0].GetCluster())
			assert.Equal(t, uint32(50), ms[0].GetRuntimeFraction().GetDefaultValue().GetNumerator())
			assert.Equal(t, typev3.FractionalPercent_HUNDRED, ms[0].GetRuntimeFraction().GetDefaultValue().GetDenominator())
			assert.Equal(t, "m2", ms[1].GetCluster())
			assert.Equal(t, uint32(10), ms[1].GetRuntimeFraction().GetDefaultValue().GetNumerator())
			assert.Equal(t, typev3.FractionalPercent_MILLION, ms[1].GetRuntimeFraction().GetDefaultValue().GetDenominator())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := forwardTo(ir.WeightedCluster{Name: "api", Weight: 1})
			c.edit(r.Forward)
			c.check(t, translateRoute(t, r).GetRoute())
		})
	}
}

func TestFractionalPercent(t *testing.T) {
	cases := []struct {
		percent float64
		num     uint32
		den     typev3.FractionalPercent_DenominatorType
	}{
		{0, 0, typev3.FractionalPercent_HUNDRED},
		{1, 1, typev3.FractionalPercent_HUNDRED},
		{100, 100, typev3.FractionalPercent_HUNDRED},
		{12.5, 1250, typev3.FractionalPercent_TEN_THOUSAND},
		{0.07, 7, typev3.FractionalPercent_TEN_THOUSAND}, // 0.07*100 is 7.000000000000001 in float64
		{33.33, 3333, typev3.FractionalPercent_TEN_THOUSAND},
		{0.001, 10, typev3.FractionalPercent_MILLION},
		{0.12345, 1235, typev3.FractionalPercent_MILLION}, // finer than Envoy can say: rounded
		{99.9999, 999999, typev3.FractionalPercent_MILLION},
	}
	for _, c := range cases {
		got := fractionalPercent(c.percent)
		assert.Equal(t, c.num, got.GetNumerator(), "percent %v", c.percent)
		assert.Equal(t, c.den, got.GetDenominator(), "percent %v", c.percent)
		requireValid(t, got)
	}
}

func TestRouteRedirect(t *testing.T) {
	codes := map[uint32]routev3.RedirectAction_RedirectResponseCode{
		301: routev3.RedirectAction_MOVED_PERMANENTLY,
		302: routev3.RedirectAction_FOUND,
		303: routev3.RedirectAction_SEE_OTHER,
		307: routev3.RedirectAction_TEMPORARY_REDIRECT,
		308: routev3.RedirectAction_PERMANENT_REDIRECT,
	}
	for code, want := range codes {
		out := translateRoute(t, ir.Route{Name: "r", Match: prefix("/"), Redirect: &ir.Redirect{StatusCode: code}})
		assert.Equal(t, want, out.GetRedirect().GetResponseCode(), "code %d", code)
	}

	out := translateRoute(t, ir.Route{Name: "r", Match: prefix("/"), Redirect: &ir.Redirect{
		Scheme: "https", Host: "b.example.com", Port: 8443, StatusCode: 302, PrefixRewrite: "/new/", StripQuery: true,
	}})
	rd := out.GetRedirect()
	assert.Equal(t, "https", rd.GetSchemeRedirect())
	assert.Equal(t, "b.example.com", rd.GetHostRedirect())
	assert.Equal(t, uint32(8443), rd.GetPortRedirect())
	assert.Equal(t, "/new/", rd.GetPrefixRewrite())
	assert.True(t, rd.GetStripQuery())

	out = translateRoute(t, ir.Route{Name: "r", Match: prefix("/"), Redirect: &ir.Redirect{StatusCode: 301, FullPathRewrite: "/x"}})
	rd = out.GetRedirect()
	assert.Nil(t, rd.GetSchemeRewriteSpecifier())
	assert.Zero(t, rd.GetPortRedirect(), "0 keeps the request's port")
	assert.Equal(t, ".*", rd.GetRegexRewrite().GetPattern().GetRegex())
	assert.Equal(t, "/x", rd.GetRegexRewrite().GetSubstitution())
	assert.False(t, rd.GetStripQuery())
}

func TestRouteDirectResponse(t *testing.T) {
	out := translateRoute(t, ir.Route{Name: names.NotFoundRoute, Match: prefix("/"), DirectResponse: &ir.DirectResponse{Status: 404, Body: names.NotFoundBody}})
	assert.Equal(t, uint32(404), out.GetDirectResponse().GetStatus())
	assert.Equal(t, names.NotFoundBody, out.GetDirectResponse().GetBody().GetInlineString())

	out = translateRoute(t, ir.Route{Name: "r", Match: prefix("/"), DirectResponse: &ir.DirectResponse{Status: 204}})
	assert.Nil(t, out.GetDirectResponse().GetBody())
}
