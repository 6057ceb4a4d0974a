package explain

import (
	"regexp"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func newExplainer() *explainer {
	return &explainer{out: &Result{}, regexps: map[string]*regexp.Regexp{}}
}

func request(method, path string, headers map[string][]string) *httpRequest {
	if headers == nil {
		headers = map[string][]string{}
	}
	return &httpRequest{method: method, scheme: "http", authority: "gw.local", path: path, headers: headers}
}

func TestStringMatcher(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     *matcherv3.StringMatcher
		value string
		want  bool
	}{
		{"exact", exactString("GET"), "GET", true},
		{"exact is case sensitive", exactString("GET"), "get", false},
		{"exact ignore_case", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}, IgnoreCase: true}, "get", true},
		{"prefix", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "app"}}, "application/json", true},
		{"suffix ignore_case", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: "JSON"}, IgnoreCase: true}, "application/json", true},
		{"contains", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Contains{Contains: "/js"}}, "application/json", true},
		{"regex is a full match", regexString("v[0-9]"), "v12", false},
		{"regex", regexString("v[0-9]+"), "v12", true},
		{"ignore_case does not apply to regex", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "abc"}}, IgnoreCase: true}, "ABC", false},
		{"no pattern", &matcherv3.StringMatcher{}, "x", false},
		{"nil", nil, "x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newExplainer().matchString(tc.m, tc.value)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := newExplainer().matchString(regexString("(unclosed"), "x")
	assert.ErrorContains(t, err, `regex "(unclosed"`)
}

func TestHeaderMatcher(t *testing.T) {
	with := func(m *routev3.HeaderMatcher, f func(*routev3.HeaderMatcher)) *routev3.HeaderMatcher { f(m); return m }
	present := map[string][]string{"x-h": {"42"}}
	for _, tc := range []struct {
		name    string
		m       *routev3.HeaderMatcher
		headers map[string][]string
		want    bool
	}{
		{"no specifier means present", &routev3.HeaderMatcher{Name: "x-h"}, present, true},
		{"no specifier, absent", &routev3.HeaderMatcher{Name: "x-h"}, nil, false},
		{"present_match false, absent", headerPresent("x-h", false), nil, true},
		{"present_match true inverted, absent", with(headerPresent("x-h", true), func(m *routev3.HeaderMatcher) { m.InvertMatch = true }), nil, true},
		{"present_match false inverted, absent", with(headerPresent("x-h", false), func(m *routev3.HeaderMatcher) { m.InvertMatch = true }), nil, false},
		{"inverted value match on an absent header fails", with(headerString("x-h", exactString("1")), func(m *routev3.HeaderMatcher) { m.InvertMatch = true }), nil, false},
		{"treat_missing_as_empty", with(headerString("x-h", regexString("")), func(m *routev3.HeaderMatcher) { m.TreatMissingHeaderAsEmpty = true }), nil, true},
		{"legacy exact_match empty means any", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_ExactMatch{}}, present, true},
		{"legacy exact_match", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_ExactMatch{ExactMatch: "41"}}, present, false},
		{"legacy regex", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_SafeRegexMatch{SafeRegexMatch: &matcherv3.RegexMatcher{Regex: "4."}}}, present, true},
		{"range is half-open", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_RangeMatch{RangeMatch: &typev3.Int64Range{Start: 40, End: 42}}}, present, false},
		{"range", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_RangeMatch{RangeMatch: &typev3.Int64Range{Start: 40, End: 43}}}, present, true},
		{"range needs an integer", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_RangeMatch{RangeMatch: &typev3.Int64Range{Start: 0, End: 100}}}, map[string][]string{"x-h": {"4.2"}}, false},
		{"legacy prefix", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_PrefixMatch{PrefixMatch: "4"}}, present, true},
		{"legacy suffix", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_SuffixMatch{SuffixMatch: "3"}}, present, false},
		{"legacy contains", &routev3.HeaderMatcher{Name: "x-h", HeaderMatchSpecifier: &routev3.HeaderMatcher_ContainsMatch{ContainsMatch: "2"}}, present, true},
		{"header names are case-insensitive", headerString("X-H", exactString("42")), present, true},
		{"values joined with commas", headerString("x-h", exactString("1,2")), map[string][]string{"x-h": {"1", "2"}}, true},
		{":method pseudo-header", headerString(":method", exactString("GET")), nil, true},
		{":authority pseudo-header", headerString(":authority", exactString("gw.local")), nil, true},
		{":path includes the query", headerString(":path", exactString("/p?q=1")), nil, true},
		{"host is :authority in Envoy", headerPresent("host", true), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newExplainer().matchHeader(tc.m, request("GET", "/p?q=1", tc.headers))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPathAndOtherMatchers(t *testing.T) {
	ci := func(m *routev3.RouteMatch) *routev3.RouteMatch { m.CaseSensitive = wrapperspb.Bool(false); return m }
	sep := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: p}}
	}
	frac := func(m *routev3.RouteMatch, n uint32) *routev3.RouteMatch {
		m.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: n}}
		return m
	}
	grpc := prefix("/")
	grpc.Grpc = &routev3.RouteMatch_GrpcRouteMatchOptions{}
	tlsPresented := prefix("/")
	tlsPresented.TlsContext = &routev3.RouteMatch_TlsContextMatchOptions{Presented: wrapperspb.Bool(true)}
	cookie := prefix("/")
	cookie.Cookies = []*routev3.CookieMatcher{{Name: "session", StringMatch: exactString("abc")}}
	noCookie := prefix("/")
	noCookie.Cookies = []*routev3.CookieMatcher{{Name: "beta", StringMatch: exactString("1"), InvertMatch: true}}
	connect := &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_ConnectMatcher_{ConnectMatcher: &routev3.RouteMatch_ConnectMatcher{}}}

	for _, tc := range []struct {
		name    string
		m       *routev3.RouteMatch
		method  string
		path    string
		headers map[string][]string
		want    bool
	}{
		{"case-insensitive prefix", ci(prefix("/API")), "GET", "/api/x", nil, true},
		{"case-insensitive path", ci(exactPath("/Health")), "GET", "/HEALTH", nil, true},
		{"path-separated prefix, exact", sep("/api/dev"), "GET", "/api/dev", nil, true},
		{"path-separated prefix, subpath", sep("/api/dev"), "GET", "/api/dev/v1", nil, true},
		{"path-separated prefix, query", sep("/api/dev"), "GET", "/api/dev?x=1", nil, true},
		{"path-separated prefix, not a segment", sep("/api/dev"), "GET", "/api/developer", nil, false},
		{"CONNECT matcher", connect, "CONNECT", "/", nil, true},
		{"CONNECT matcher needs CONNECT", connect, "GET", "/", nil, false},
		{"runtime fraction 0% never matches", frac(prefix("/"), 0), "GET", "/", nil, false},
		{"runtime fraction 50% is assumed to match", frac(prefix("/"), 50), "GET", "/", nil, true},
		{"gRPC needs a gRPC content type", grpc, "POST", "/", map[string][]string{"content-type": {"application/json"}}, false},
		{"gRPC", grpc, "POST", "/", map[string][]string{"content-type": {"application/grpc+proto"}}, true},
		{"tls_context presented without a client certificate", tlsPresented, "GET", "/", nil, false},
		{"cookie", cookie, "GET", "/", map[string][]string{"cookie": {`a=1; session="abc"`}}, true},
		{"cookie absent", cookie, "GET", "/", nil, false},
		{"inverted cookie, absent", noCookie, "GET", "/", nil, true},
		{"inverted cookie, present", noCookie, "GET", "/", map[string][]string{"cookie": {"beta=1"}}, false},
		{"prefix ignores the fragment", exactPath("/a"), "GET", "/a#frag", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newExplainer().matchRoute(&routev3.Route{Name: "r", Match: tc.m}, request(tc.method, tc.path, tc.headers), false)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	e := newExplainer()
	ok, err := e.matchRoute(&routev3.Route{Name: "r", Match: exactPath("/a")}, request("GET", "/a;jsessionid=1", nil), true)
	require.NoError(t, err)
	assert.True(t, ok, "ignore_path_parameters_in_path_matching drops ;params")

	dyn := prefix("/")
	dyn.DynamicMetadata = []*matcherv3.MetadataMatcher{{Filter: "envoy.filters.http.jwt_authn"}}
	_, err = e.matchRoute(&routev3.Route{Name: "r", Match: dyn}, request("GET", "/", nil), false)
	assert.ErrorIs(t, err, errUnsupported)
}

func TestQueryParameters(t *testing.T) {
	r := request("GET", "/p?a=1&a=2&flag&empty=&enc=%20x#frag", nil)
	for _, tc := range []struct {
		name, value string
		present     bool
	}{{"a", "1", true}, {"flag", "", true}, {"empty", "", true}, {"enc", "%20x", true}, {"missing", "", false}} {
		v, ok := r.queryParam(tc.name)
		assert.Equal(t, tc.present, ok, tc.name)
		assert.Equal(t, tc.value, v, tc.name)
	}
}
