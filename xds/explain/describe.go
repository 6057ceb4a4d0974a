package explain

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// describeMatch renders an Envoy route match for people: which path rule and which headers,
// query parameters and cookies it required.
func describeMatch(m *routev3.RouteMatch) *Match {
	if m == nil {
		return nil
	}
	out := &Match{Grpc: m.GetGrpc() != nil}
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		out.Prefix = ptr(ps.Prefix)
	case *routev3.RouteMatch_Path:
		out.Path = ptr(ps.Path)
	case *routev3.RouteMatch_SafeRegex:
		out.Regex = ptr(ps.SafeRegex.GetRegex())
	case *routev3.RouteMatch_PathSeparatedPrefix:
		out.PathSeparatedPrefix = ptr(ps.PathSeparatedPrefix)
	case *routev3.RouteMatch_ConnectMatcher_:
		out.Connect = true
	}
	if cs := m.GetCaseSensitive(); cs != nil && !cs.GetValue() && out.Regex == nil {
		out.IgnoreCase = true
	}
	for _, h := range m.GetHeaders() {
		if h != nil {
			out.Headers = append(out.Headers, describeHeader(h))
		}
	}
	for _, q := range m.GetQueryParameters() {
		if q == nil {
			continue
		}
		qm := QueryMatch{Name: q.GetName()}
		if sm := q.GetStringMatch(); sm != nil {
			qm.StringMatch = describeString(sm)
		} else {
			qm.Present = ptr(true)
		}
		out.QueryParameters = append(out.QueryParameters, qm)
	}
	for _, c := range m.GetCookies() {
		if c != nil {
			out.Cookies = append(out.Cookies, CookieMatch{Name: c.GetName(), StringMatch: describeString(c.GetStringMatch()), Invert: c.GetInvertMatch()})
		}
	}
	return out
}

func describeHeader(h *routev3.HeaderMatcher) HeaderMatch {
	out := HeaderMatch{Name: h.GetName(), Invert: h.GetInvertMatch(), TreatMissingAsEmpty: h.GetTreatMissingHeaderAsEmpty()}
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		if s.ExactMatch == "" {
			out.Present = ptr(true)
		} else {
			out.Exact = ptr(s.ExactMatch)
		}
	case *routev3.HeaderMatcher_SafeRegexMatch:
		out.Regex = ptr(s.SafeRegexMatch.GetRegex())
	case *routev3.HeaderMatcher_RangeMatch:
		out.Range = fmt.Sprintf("[%d,%d)", s.RangeMatch.GetStart(), s.RangeMatch.GetEnd())
	case *routev3.HeaderMatcher_PresentMatch:
		out.Present = ptr(s.PresentMatch)
	case *routev3.HeaderMatcher_PrefixMatch:
		out.Prefix = ptr(s.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		out.Suffix = ptr(s.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		out.Contains = ptr(s.ContainsMatch)
	case *routev3.HeaderMatcher_StringMatch:
		out.StringMatch = describeString(s.StringMatch)
	default:
		out.Present = ptr(true)
	}
	return out
}

func describeString(sm *matcherv3.StringMatcher) StringMatch {
	out := StringMatch{IgnoreCase: sm.GetIgnoreCase()}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		out.Exact = ptr(p.Exact)
	case *matcherv3.StringMatcher_Prefix:
		out.Prefix = ptr(p.Prefix)
	case *matcherv3.StringMatcher_Suffix:
		out.Suffix = ptr(p.Suffix)
	case *matcherv3.StringMatcher_Contains:
		out.Contains = ptr(p.Contains)
	case *matcherv3.StringMatcher_SafeRegex:
		out.Regex = ptr(p.SafeRegex.GetRegex())
		out.IgnoreCase = false
	}
	return out
}

func ptr[T any](v T) *T { return &v }
