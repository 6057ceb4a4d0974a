package explain

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/names"
)

// PolicyReport is every connection policy decision a dataplane's resources record, per route,
// per TCP filter chain and per cluster, each with the settings the decision became. It is
// what `meshgate inspect` shows; requests are not needed, so it covers routes no request has
// been explained for. Its JSON form is part of the inspect contract.
type PolicyReport struct {
	Routes   []RoutePolicies   `json:"routes,omitempty"`
	TCP      []ChainPolicies   `json:"tcp,omitempty"`
	Clusters []ClusterPolicies `json:"clusters,omitempty"`
}

// RoutePolicies are the decisions recorded on one Envoy route and the route's policy settings.
type RoutePolicies struct {
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	EnvoyRoute  string `json:"envoyRoute"`
	// Route is the MeshGatewayRoute rule and match behind the route, when there is one.
	Route       *RouteRef  `json:"route,omitempty"`
	Timeout     string     `json:"timeout,omitempty"`
	IdleTimeout string     `json:"idleTimeout,omitempty"`
	Retry       *Retry     `json:"retry,omitempty"`
	RateLimit   *RateLimit `json:"rateLimit,omitempty"`
	Policies    []Policy   `json:"policies"`
}

// ChainPolicies are the decisions recorded on a TCP proxy's filter chain and its settings.
type ChainPolicies struct {
	Listener           string   `json:"listener"`
	FilterChain        string   `json:"filterChain"`
	MaxConnectAttempts uint32   `json:"maxConnectAttempts,omitempty"`
	IdleTimeout        string   `json:"idleTimeout,omitempty"`
	Policies           []Policy `json:"policies"`
}

// ClusterPolicies are the decisions recorded on one cluster and its policy settings.
type ClusterPolicies struct {
	Cluster  string   `json:"cluster"`
	Service  string   `json:"service,omitempty"`
	Policies []Policy `json:"policies"`
	ClusterSettings
}

// Empty reports whether the report holds nothing.
func (r *PolicyReport) Empty() bool {
	return r == nil || len(r.Routes)+len(r.TCP)+len(r.Clusters) == 0
}

// Policies collects the policy decisions recorded in res, in resource order: RDS route
// configurations, then those inline in listeners; TCP chains by listener; clusters. It is nil
// when nothing is recorded. Configuration it cannot read is skipped: the report is only a
// view of what the resources say.
func Policies(res *envoyres.Resources) *PolicyReport {
	if res == nil {
		return nil
	}
	e := &explainer{res: res, out: &Result{}}
	out := &PolicyReport{}
	for _, rc := range res.Routes {
		out.Routes = append(out.Routes, routePolicies(rc)...)
	}
	for _, l := range res.Listeners {
		for _, fc := range envoyres.FilterChains(l) {
			// A terminal filter that does not decode has nothing to report.
			hcm, tcp, _ := envoyres.ChainTerminal(fc)
			if hcm != nil && hcm.GetRouteConfig() != nil {
				out.Routes = append(out.Routes, routePolicies(hcm.GetRouteConfig())...)
			}
			if tcp == nil {
				continue
			}
			ps := policiesFrom(fc.GetMetadata())
			if len(ps) == 0 {
				continue
			}
			cp := ChainPolicies{Listener: l.GetName(), FilterChain: fc.GetName(), Policies: ps, IdleTimeout: formatDuration(tcp.GetIdleTimeout())}
			if n := tcp.GetMaxConnectAttempts(); n != nil {
				cp.MaxConnectAttempts = n.GetValue()
			}
			out.TCP = append(out.TCP, cp)
		}
	}
	for _, c := range res.Clusters {
		ps := policiesFrom(c.GetMetadata())
		if len(ps) == 0 {
			continue
		}
		out.Clusters = append(out.Clusters, ClusterPolicies{
			Cluster:         c.GetName(),
			Service:         c.GetMetadata().GetFilterMetadata()[names.MetadataNamespace].GetFields()["service"].GetStringValue(),
			Policies:        ps,
			ClusterSettings: e.clusterSettings(c, true),
		})
	}
	if out.Empty() {
		return nil
	}
	return out
}

func routePolicies(rc *routev3.RouteConfiguration) []RoutePolicies {
	var out []RoutePolicies
	for _, vh := range rc.GetVirtualHosts() {
		for _, rt := range vh.GetRoutes() {
			ps := policiesFrom(rt.GetMetadata())
			if len(ps) == 0 {
				continue
			}
			rp := RoutePolicies{RouteConfig: rc.GetName(), VirtualHost: vh.GetName(), EnvoyRoute: rt.GetName(), Route: routeRef(rt), Policies: ps}
			if ra := rt.GetRoute(); ra != nil {
				rp.Timeout = formatDuration(ra.GetTimeout())
				if ra.GetTimeout() == nil {
					rp.Timeout = envoyDefaultTimeout.String()
				}
				rp.IdleTimeout = formatDuration(ra.GetIdleTimeout())
				retry := ra.GetRetryPolicy()
				if retry == nil {
					retry = vh.GetRetryPolicy()
				}
				if retry != nil {
					rp.Retry = describeRetry(retry)
				}
			}
			for _, l := range []map[string]*anypb.Any{rt.GetTypedPerFilterConfig(), vh.GetTypedPerFilterConfig(), rc.GetTypedPerFilterConfig()} {
				if a := l[localRateLimitFilter]; a != nil {
					rp.RateLimit, _ = rateLimitOf(a)
					break
				}
			}
			out = append(out, rp)
		}
	}
	return out
}

// Text renders the report for a terminal: a heading line per route, TCP chain and cluster,
// its settings and decisions indented under it.
func (r *PolicyReport) Text() string {
	if r.Empty() {
		return ""
	}
	var t table
	for _, rp := range r.Routes {
		t.indent = ""
		where := fmt.Sprintf("virtual host %s of %s", rp.VirtualHost, rp.RouteConfig)
		if rp.Route != nil {
			t.add("route", fmt.Sprintf("%s/%s rules[%d] matches[%d]  (Envoy route %s, %s)", rp.Route.Mesh, rp.Route.Name, rp.Route.Rule, rp.Route.Match, rp.EnvoyRoute, where))
		} else {
			t.add("route", fmt.Sprintf("Envoy route %s  (%s)", rp.EnvoyRoute, where))
		}
		t.indent = "  "
		t.add("timeout", rp.Timeout)
		t.add("idle timeout", rp.IdleTimeout)
		if rp.Retry != nil {
			t.add("retry", retryText(rp.Retry))
		}
		if rp.RateLimit != nil {
			t.add("rate limit", rateLimitText(rp.RateLimit))
		}
		policiesText(&t, "policy", "", rp.Policies)
	}
	for _, cp := range r.TCP {
		t.indent = ""
		t.add("tcp proxy", fmt.Sprintf("%s  (listener %s)", cp.FilterChain, cp.Listener))
		t.indent = "  "
		if cp.MaxConnectAttempts > 0 {
			t.add("connect attempts", fmt.Sprint(cp.MaxConnectAttempts))
		}
		t.add("idle timeout", cp.IdleTimeout)
		policiesText(&t, "policy", "", cp.Policies)
	}
	for _, cp := range r.Clusters {
		t.indent = ""
		name := cp.Cluster
		if cp.Service != "" && cp.Service != cp.Cluster {
			name += "  (service " + cp.Service + ")"
		}
		t.add("cluster", name)
		t.indent = "  "
		clusterSettingsText(&t, "", cp.ClusterSettings)
		policiesText(&t, "policy", "", cp.Policies)
	}
	return t.String()
}
