package translate

import (
	"fmt"
	"math"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

func routeConfig(rc ir.RouteConfig) (*routev3.RouteConfiguration, error) {
	out := &routev3.RouteConfiguration{
		Name: rc.Name,
		// Routes may name kuma.io/unresolved-backend, which has no cluster on purpose; Envoy must
		// accept the table and answer those requests with 500 instead.
		ValidateClusters:         wrapperspb.Bool(false),
		IgnorePortInHostMatching: true,
		RequestHeadersToRemove:   append([]string(nil), rc.RequestHeadersToRemove...),
		// Envoy otherwise applies the route configuration's mutations last, so stripping a
		// client-sent x-kuma-tags here would also strip the value the route sets for backends.
		MostSpecificHeaderMutationsWins: true,
	}
	for _, vh := range rc.VirtualHosts {
		v, err := virtualHost(vh)
		if err != nil {
			return nil, err
		}
		out.VirtualHosts = append(out.VirtualHosts, v)
	}
	return out, nil
}

func virtualHost(vh ir.VirtualHost) (*routev3.VirtualHost, error) {
	out := &routev3.VirtualHost{
		Name:                 vh.Name,
		Domains:              append([]string(nil), vh.Domains...),
		ResponseHeadersToAdd: headerOptions(vh.ResponseHeadersToAdd, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
	}
	if vh.RequireTLS {
		out.RequireTls = routev3.VirtualHost_ALL
	}
	for _, r := range vh.Routes {
		rt, err := route(r)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r.Name, err)
		}
		out.Routes = append(out.Routes, rt)
	}
	return out, nil
}

func route(r ir.Route) (*routev3.Route, error) {
	out := &routev3.Route{
		Name:                    r.Name,
		Match:                   routeMatch(r.Match),
		RequestHeadersToAdd:     mutationOptions(r.RequestHeaders),
		RequestHeadersToRemove:  append([]string(nil), r.RequestHeaders.Remove...),
		ResponseHeadersToAdd:    mutationOptions(r.ResponseHeaders),
		ResponseHeadersToRemove: append([]string(nil), r.ResponseHeaders.Remove...),
	}
	if o := r.Origin; o != nil {
		out.Metadata = meshgateMetadata(names.EncodeRouteOrigin(names.RouteOrigin{Mesh: o.Mesh, Route: o.Route, Rule: o.Rule, Match: o.Match}))
	}
	switch {
	case r.Forward != nil:
		out.Action = &routev3.Route_Route{Route: forward(*r.Forward)}
		if len(r.Forward.Clusters) == 1 {
			// A lone cluster is routed to directly (see forward), so its headers move to the
			// route. They go first: Envoy applies a weighted cluster's headers before the
			// route's, letting the route's own Set override them, and this keeps that order.
			own := headerOptions(r.Forward.Clusters[0].RequestHeadersToAdd, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)
			out.RequestHeadersToAdd = append(own, out.RequestHeadersToAdd...)
		}
		if rl := r.Forward.RateLimit; rl != nil {
			a, err := routeRateLimit(*rl)
			if err != nil {
				return nil, err
			}
			out.TypedPerFilterConfig = map[string]*anypb.Any{localRateLimitFilter: a}
		}
		out.Metadata = setPolicyDecisions(out.Metadata, r.Forward.Policies)
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirect(*r.Redirect)}
	case r.DirectResponse != nil:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(*r.DirectResponse)}
	}
	return out, nil
}

func routeMatch(m ir.RouteMatch) *routev3.RouteMatch {
	out := &routev3.RouteMatch{}
	switch m.Path.Kind {
	case ir.PathExact:
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.Path.Value}
	case ir.PathPrefix:
		out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: m.Path.Value}
	case ir.PathRegex:
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: regex(m.Path.Value)}
	}
	if m.Method != "" {
		out.Headers = append(out.Headers, &routev3.HeaderMatcher{
			Name:                 ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact(m.Method)},
		})
	}
	for _, h := range m.Headers {
		hm := &routev3.HeaderMatcher{Name: h.Name}
		switch h.Kind {
		case ir.HeaderExact:
			hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: exact(h.Value)}
		case ir.HeaderRegex:
			hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: safeRegex(h.Value)}
		case ir.HeaderPresent, ir.HeaderAbsent:
			// Envoy v3: present_match false matches requests that lack the header.
			hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: h.Kind == ir.HeaderPresent}
		}
		out.Headers = append(out.Headers, hm)
	}
	for _, q := range m.Query {
		sm := exact(q.Value)
		if q.Kind == ir.QueryRegex {
			sm = safeRegex(q.Value)
		}
		out.QueryParameters = append(out.QueryParameters, &routev3.QueryParameterMatcher{
			Name:                         q.Name,
			QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm},
		})
	}
	return out
}

// forward routes to the cluster itself when there is only one, so Envoy's stats and access logs
// show a plain cluster route; weighted_clusters only when traffic is actually split.
func forward(f ir.Forward) *routev3.RouteAction {
	out := &routev3.RouteAction{
		// Requests to kuma.io/unresolved-backend (no such cluster) fail with 500, not 503.
		ClusterNotFoundResponseCode: routev3.RouteAction_INTERNAL_SERVER_ERROR,
		PrefixRewrite:               f.PrefixRewrite,
		Timeout:                     duration(f.Timeout),
		IdleTimeout:                 duration(f.IdleTimeout),
		RetryPolicy:                 retryPolicy(f.Retry),
	}
	if f.NoTimeout {
		// An explicit zero: unset would be Envoy's 15 s.
		out.Timeout = durationpb.New(0)
	}
	if len(f.Clusters) == 1 {
		out.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: f.Clusters[0].Name}
	} else {
		wc := &routev3.WeightedCluster{}
		for _, c := range f.Clusters {
			wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
				Name:                c.Name,
				Weight:              wrapperspb.UInt32(c.Weight),
				RequestHeadersToAdd: headerOptions(c.RequestHeadersToAdd, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			})
		}
		out.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	if f.FullPathRewrite != "" {
		out.RegexRewrite = fullPathRewrite(f.FullPathRewrite)
	}
	switch {
	case f.HostRewrite != "":
		out.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: f.HostRewrite}
	case f.AutoHostRewrite:
		out.HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}
	}
	for _, m := range f.Mirrors {
		out.RequestMirrorPolicies = append(out.RequestMirrorPolicies, &routev3.RouteAction_RequestMirrorPolicy{
			Cluster:         m.Cluster,
			RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: fractionalPercent(m.Percent)},
		})
	}
	return out
}

// fractionalPercent picks the coarsest denominator that represents percent exactly, falling
// back to parts per million (Envoy's finest) rounded.
func fractionalPercent(percent float64) *typev3.FractionalPercent {
	isInt := func(x float64) bool { return math.Abs(x-math.Round(x)) < 1e-9 }
	switch {
	case isInt(percent):
		return &typev3.FractionalPercent{Numerator: uint32(math.Round(percent)), Denominator: typev3.FractionalPercent_HUNDRED}
	case isInt(percent * 100):
		return &typev3.FractionalPercent{Numerator: uint32(math.Round(percent * 100)), Denominator: typev3.FractionalPercent_TEN_THOUSAND}
	default:
		return &typev3.FractionalPercent{Numerator: uint32(math.Round(percent * 10000)), Denominator: typev3.FractionalPercent_MILLION}
	}
}

var redirectCodes = map[uint32]routev3.RedirectAction_RedirectResponseCode{
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

func redirect(r ir.Redirect) *routev3.RedirectAction {
	out := &routev3.RedirectAction{
		HostRedirect: r.Host,
		PortRedirect: r.Port,
		ResponseCode: redirectCodes[r.StatusCode],
		StripQuery:   r.StripQuery,
	}
	if r.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.Scheme}
	}
	switch {
	case r.PrefixRewrite != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: r.PrefixRewrite}
	case r.FullPathRewrite != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_RegexRewrite{RegexRewrite: fullPathRewrite(r.FullPathRewrite)}
	}
	return out
}

func directResponse(d ir.DirectResponse) *routev3.DirectResponseAction {
	out := &routev3.DirectResponseAction{Status: d.Status}
	if d.Body != "" {
		out.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: d.Body}}
	}
	return out
}

// fullPathRewrite replaces the whole path (query excluded), as Kuma's replaceFull does.
func fullPathRewrite(path string) *matcherv3.RegexMatchAndSubstitute {
	return &matcherv3.RegexMatchAndSubstitute{Pattern: regex(".*"), Substitution: path}
}

func regex(expr string) *matcherv3.RegexMatcher { return &matcherv3.RegexMatcher{Regex: expr} }

func exact(v string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}}
}

func safeRegex(expr string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex(expr)}}
}

// mutationOptions maps Set to overwrite and Add to append, Set first as the IR orders them.
func mutationOptions(m ir.HeaderMutation) []*corev3.HeaderValueOption {
	out := headerOptions(m.Set, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)
	return append(out, headerOptions(m.Add, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)...)
}

func headerOptions(hs []ir.Header, action corev3.HeaderValueOption_HeaderAppendAction) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, h := range hs {
		out = append(out, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: action,
		})
	}
	return out
}
