package explain

import (
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// matchRoute is Envoy's RouteEntryImplBase::matchRoute plus the path specifier check. All
// conditions must hold; the path is matched without query string and fragment.
func (e *explainer) matchRoute(rt *routev3.Route, r *httpRequest, ignorePathParams bool) (bool, error) {
	m := rt.GetMatch()
	if m == nil {
		return false, unsupported("it has no match (Envoy rejects such a route)")
	}
	pct := 100.0
	if rf := m.GetRuntimeFraction(); rf != nil {
		if pct = percent(rf.GetDefaultValue()); pct == 0 {
			return false, nil
		}
	}
	if m.GetGrpc() != nil && !isGrpc(r) {
		return false, nil
	}
	for _, hm := range m.GetHeaders() {
		if ok, err := e.matchHeader(hm, r); !ok || err != nil {
			return false, err
		}
	}
	for _, qm := range m.GetQueryParameters() {
		if ok, err := e.matchQuery(qm, r); !ok || err != nil {
			return false, err
		}
	}
	for _, cm := range m.GetCookies() {
		if ok, err := e.matchCookie(cm, r); !ok || err != nil {
			return false, err
		}
	}
	if tc := m.GetTlsContext(); tc != nil {
		if p := tc.GetPresented(); p != nil && p.GetValue() != r.peerCert {
			return false, nil
		}
		if v := tc.GetValidated(); v != nil && v.GetValue() != r.peerCert {
			return false, nil
		}
	}
	if len(m.GetDynamicMetadata()) > 0 || len(m.GetFilterState()) > 0 {
		return false, unsupported("it matches on dynamic metadata or filter state that HTTP filters set")
	}
	ok, err := e.matchPath(m, r, ignorePathParams)
	if ok && pct < 100 {
		e.out.note("route %q matches only %g%% of requests (runtime_fraction); explain assumes this one is among them", rt.GetName(), pct)
	}
	return ok, err
}

func (e *explainer) matchPath(m *routev3.RouteMatch, r *httpRequest, ignorePathParams bool) (bool, error) {
	path := r.pathOnly()
	if ignorePathParams {
		if i := strings.IndexByte(path, ';'); i >= 0 {
			path = path[:i]
		}
	}
	caseSensitive := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	fold := func(s string) string {
		if caseSensitive {
			return s
		}
		return asciiLower(s)
	}
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return strings.HasPrefix(fold(path), fold(ps.Prefix)), nil
	case *routev3.RouteMatch_Path:
		return fold(path) == fold(ps.Path), nil
	case *routev3.RouteMatch_SafeRegex:
		// case_sensitive does not apply to regexes.
		return e.fullMatch(ps.SafeRegex.GetRegex(), path)
	case *routev3.RouteMatch_PathSeparatedPrefix:
		p := ps.PathSeparatedPrefix
		return len(path) >= len(p) && fold(path[:len(p)]) == fold(p) &&
			(len(path) == len(p) || path[len(p)] == '/'), nil
	case *routev3.RouteMatch_ConnectMatcher_:
		return r.method == "CONNECT", nil
	case *routev3.RouteMatch_PathMatchPolicy:
		return false, unsupported("it matches the path with a path_match_policy extension")
	}
	return false, unsupported("it has no path specifier (Envoy rejects such a route)")
}

// matchHeader is Envoy's header matcher. A missing header fails every matcher except
// present_match, even an inverted one, unless treat_missing_header_as_empty.
func (e *explainer) matchHeader(hm *routev3.HeaderMatcher, r *httpRequest) (bool, error) {
	v, ok := r.header(asciiLower(hm.GetName()))
	spec := hm.GetHeaderMatchSpecifier()
	if pm, isPresent := spec.(*routev3.HeaderMatcher_PresentMatch); isPresent || spec == nil {
		want := !isPresent || pm.PresentMatch
		return (ok == want) != hm.GetInvertMatch(), nil
	}
	if !ok {
		if !hm.GetTreatMissingHeaderAsEmpty() {
			return false, nil
		}
		v = ""
	}
	var m bool
	var err error
	switch s := spec.(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		// The deprecated exact_match treats "" as "any value".
		m = s.ExactMatch == "" || v == s.ExactMatch
	case *routev3.HeaderMatcher_SafeRegexMatch:
		m, err = e.fullMatch(s.SafeRegexMatch.GetRegex(), v)
	case *routev3.HeaderMatcher_RangeMatch:
		n, perr := strconv.ParseInt(v, 10, 64)
		m = perr == nil && n >= s.RangeMatch.GetStart() && n < s.RangeMatch.GetEnd()
	case *routev3.HeaderMatcher_PrefixMatch:
		m = strings.HasPrefix(v, s.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		m = strings.HasSuffix(v, s.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		m = strings.Contains(v, s.ContainsMatch)
	case *routev3.HeaderMatcher_StringMatch:
		m, err = e.matchString(s.StringMatch, v)
	}
	if err != nil {
		return false, err
	}
	return m != hm.GetInvertMatch(), nil
}

// matchQuery looks at the first value of the parameter only; present_match and the legacy
// empty matcher both just require the parameter.
func (e *explainer) matchQuery(qm *routev3.QueryParameterMatcher, r *httpRequest) (bool, error) {
	v, ok := r.queryParam(qm.GetName())
	if !ok {
		return false, nil
	}
	if sm, isString := qm.GetQueryParameterMatchSpecifier().(*routev3.QueryParameterMatcher_StringMatch); isString {
		return e.matchString(sm.StringMatch, v)
	}
	return true, nil
}

// matchCookie: an absent cookie does not match, so an inverted matcher accepts it.
func (e *explainer) matchCookie(cm *routev3.CookieMatcher, r *httpRequest) (bool, error) {
	v, ok := r.cookie(cm.GetName())
	if !ok {
		return cm.GetInvertMatch(), nil
	}
	m, err := e.matchString(cm.GetStringMatch(), v)
	if err != nil {
		return false, err
	}
	return m != cm.GetInvertMatch(), nil
}

func (r *httpRequest) cookie(name string) (string, bool) {
	for _, h := range r.headers["cookie"] {
		for _, part := range strings.Split(h, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v, true
			}
		}
	}
	return "", false
}

// matchString is Envoy's StringMatcher; ignore_case folds ASCII only and does not apply to
// regexes.
func (e *explainer) matchString(sm *matcherv3.StringMatcher, v string) (bool, error) {
	fold := func(s string) string {
		if sm.GetIgnoreCase() {
			return asciiLower(s)
		}
		return s
	}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return fold(v) == fold(p.Exact), nil
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(fold(v), fold(p.Prefix)), nil
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(fold(v), fold(p.Suffix)), nil
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(fold(v), fold(p.Contains)), nil
	case *matcherv3.StringMatcher_SafeRegex:
		return e.fullMatch(p.SafeRegex.GetRegex(), v)
	case *matcherv3.StringMatcher_Custom:
		return false, unsupported("it uses the custom string matcher %q", p.Custom.GetName())
	}
	return false, nil
}

// isGrpc is Envoy's Grpc::Common::isGrpcRequestHeaders: a gRPC content type.
func isGrpc(r *httpRequest) bool {
	ct, _ := r.first("content-type")
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") ||
		strings.HasPrefix(ct, "application/grpc;")
}

func percent(f *typev3.FractionalPercent) float64 {
	if f == nil {
		return 100
	}
	den := 100.0
	switch f.GetDenominator() {
	case typev3.FractionalPercent_TEN_THOUSAND:
		den = 10000
	case typev3.FractionalPercent_MILLION:
		den = 1000000
	}
	p := float64(f.GetNumerator()) * 100 / den
	if p > 100 {
		return 100
	}
	return p
}
