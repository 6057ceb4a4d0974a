package render_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

// goldenRequest is one entry of a case's requests.yaml (see testdata/golden/README.md).
//
// Sidecar and cross-mesh requests add: `address`, the destination IP (it picks the listener
// among several on the port, a VIP through the redirect listener); `source`, the URI SANs of
// the client certificate (the connection is then TLS, offering ALPN `kuma` unless `alpn` is
// given); and the expectations `tls: {accepted: bool}` (the client certificate check),
// `rbac: {allowedBy: <policy>}` or `rbac: {denied: true}`, `faults: [{applies: bool}]` (the
// connection manager's fault filters, in order), `cluster: {name, type, endpoints, identity,
// san, validation, verified}` (the first forward's cluster, each field checked when given) and
// `close: true` (Envoy closes the connection, as it does when TLS or RBAC refuses the client;
// then no forward, redirect or direct response is given) and `rateLimit: {requests, interval,
// status}` or `rateLimit: {none: true}` (the matched route's local rate limit).
//
// Connection policy requests add `policies: [{kind, applied, lost}]`: the decisions recorded
// on the matched route (or the TCP proxy's filter chain), all of them in order (`[]` for
// none); `applied` is empty for an ignored kind (TrafficRoute on a gateway) and `lost`, when
// given, lists every losing candidate as `{name, reason}` (the reason checked when given).
// `cluster: {policies: [...]}` checks the first forward cluster's decisions the same way.
type goldenRequest struct {
	Port    uint32            `json:"port"`
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	SNI     string            `json:"sni"`
	Address string            `json:"address"`
	Source  []string          `json:"source"`
	ALPN    []string          `json:"alpn"`
	TLS     bool              `json:"tls"`
	Expect  struct {
		VirtualHost string `json:"virtualHost"`
		Route       *struct {
			Name  string `json:"name"`
			Rule  int    `json:"rule"`
			Match int    `json:"match"`
		} `json:"route"`
		Forward []struct {
			Cluster string `json:"cluster"`
			Weight  uint32 `json:"weight"`
		} `json:"forward"`
		Redirect *struct {
			Scheme     string `json:"scheme"`
			Host       string `json:"host"`
			Port       uint32 `json:"port"`
			StatusCode int    `json:"statusCode"`
		} `json:"redirect"`
		DirectResponse *struct {
			Status int `json:"status"`
		} `json:"directResponse"`
		UpstreamPath string `json:"upstreamPath"`
		// UpstreamHost is the Host (:authority) the backend receives, after any host rewrite.
		UpstreamHost string `json:"upstreamHost"`
		// Timeout and IdleTimeout are the route's request and stream idle timeouts as explain
		// prints them (`15s`, `disabled`).
		Timeout     string `json:"timeout"`
		IdleTimeout string `json:"idleTimeout"`
		// RemovedHeaders are the request headers removed before the backend sees the request,
		// at every level (route, virtual host, route configuration); `[]` for none.
		RemovedHeaders []string `json:"removedHeaders"`
		TLS            *struct {
			Accepted bool `json:"accepted"`
		} `json:"tls"`
		RBAC *struct {
			AllowedBy string `json:"allowedBy"`
			Denied    bool   `json:"denied"`
		} `json:"rbac"`
		Faults []struct {
			Applies bool `json:"applies"`
		} `json:"faults"`
		Policies []goldenPolicy `json:"policies"`
		Cluster  *struct {
			Name       string   `json:"name"`
			Type       string   `json:"type"`
			Endpoints  []string `json:"endpoints"`
			Identity   string   `json:"identity"`
			SAN        string   `json:"san"`
			Validation string   `json:"validation"`
			Verified   *bool    `json:"verified"`
			// Policies are the cluster's policy decisions (see goldenPolicy).
			Policies []goldenPolicy `json:"policies"`
		} `json:"cluster"`
		Close bool `json:"close"`
		// Serve: a proxyless gRPC server's non_forwarding_action route; the server handles it.
		Serve bool `json:"serve"`
		// RateLimit is the matched route's local rate limit (each field checked when given);
		// `rateLimit: {none: true}` requires that the route has none.
		RateLimit *struct {
			None     bool   `json:"none"`
			Requests uint32 `json:"requests"`
			Interval string `json:"interval"`
			Status   int    `json:"status"`
		} `json:"rateLimit"`
	} `json:"expect"`
}

// goldenPolicy is one expected policy decision.
type goldenPolicy struct {
	Kind    string `json:"kind"`
	Applied string `json:"applied"`
	Lost    []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"lost"`
}

// checkPolicies compares decisions with the expected ones: kind and applied policy of each,
// in order, and the losers of those that list them.
func checkPolicies(t *testing.T, what string, want []goldenPolicy, got []explain.Policy) {
	t.Helper()
	if want == nil {
		return
	}
	exp := make([]string, len(want))
	for i, p := range want {
		exp[i] = p.Kind + " " + p.Applied
	}
	act := make([]string, len(got))
	for i, p := range got {
		act[i] = p.Kind + " " + p.Applied
	}
	if !assert.Equal(t, exp, act, "%s policies", what) {
		return
	}
	for i, p := range want {
		if p.Lost == nil {
			continue
		}
		var expLost, actLost []string
		for j, l := range p.Lost {
			expLost = append(expLost, l.Name)
			if l.Reason != "" && j < len(got[i].Lost) {
				assert.Equal(t, l.Reason, got[i].Lost[j].Reason, "%s %s: why %s lost", what, p.Kind, l.Name)
			}
		}
		for _, l := range got[i].Lost {
			actLost = append(actLost, l.Name)
		}
		assert.Equal(t, expLost, actLost, "%s %s: losers", what, p.Kind)
	}
}

// explainRequest is the explain request a golden request describes.
func explainRequest(gr goldenRequest) explain.Request {
	req := explain.Request{Port: gr.Port, Host: gr.Host, Path: gr.Path, Method: gr.Method, SNI: gr.SNI, Address: gr.Address, ALPN: gr.ALPN, TLS: gr.TLS}
	if len(gr.Source) > 0 {
		req.Source = &explain.Peer{URIs: gr.Source}
		req.TLS = true
		if req.ALPN == nil {
			req.ALPN = []string{"kuma"}
		}
	}
	hnames := make([]string, 0, len(gr.Headers))
	for n := range gr.Headers {
		hnames = append(hnames, n)
	}
	sort.Strings(hnames)
	for _, n := range hnames {
		req.Headers = append(req.Headers, explain.Header{Name: n, Value: gr.Headers[n]})
	}
	return req
}

// checkRequests runs every request of the case through explain, which reads only the rendered
// Envoy resources, so the goldens and the explanations can never disagree silently.
func checkRequests(t *testing.T, dir string, out *render.Output) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "requests.yaml"))
	require.NoError(t, err)
	var reqs []goldenRequest
	require.NoError(t, yaml.UnmarshalStrict(raw, &reqs))
	for i, gr := range reqs {
		t.Run(fmt.Sprintf("request-%d %s%s", i, gr.Host, gr.Path), func(t *testing.T) {
			res, err := explain.Explain(out.Resources, explainRequest(gr))
			require.NoError(t, err)
			require.NotNil(t, res.Action, "no action: %s", res.Reason)
			want := gr.Expect
			checkSecurity(t, gr, res)
			checkPolicies(t, "route", want.Policies, res.Policies)
			assert.Equal(t, want.VirtualHost, res.VirtualHost, "virtual host")
			if want.Route == nil {
				assert.Nil(t, res.Route, "route")
			} else if assert.NotNil(t, res.Route, "route") {
				assert.Equal(t, want.Route.Name, res.Route.Name, "route name")
				assert.Equal(t, want.Route.Rule, res.Route.Rule, "rule")
				assert.Equal(t, want.Route.Match, res.Route.Match, "match")
			}
			switch {
			case want.Forward != nil:
				got := make([]string, len(res.Action.Forward))
				for i, b := range res.Action.Forward {
					got[i] = fmt.Sprintf("%s/%d", b.Cluster, b.Weight)
				}
				exp := make([]string, len(want.Forward))
				for i, b := range want.Forward {
					exp[i] = fmt.Sprintf("%s/%d", b.Cluster, b.Weight)
				}
				assert.Equal(t, exp, got, "forward")
				if want.UpstreamPath != "" {
					assert.Equal(t, want.UpstreamPath, res.Action.UpstreamPath, "upstream path")
				}
				if want.UpstreamHost != "" {
					assert.Equal(t, want.UpstreamHost, res.Action.UpstreamHost, "upstream host")
				}
				if want.Timeout != "" {
					assert.Equal(t, want.Timeout, res.Action.Timeout, "request timeout")
				}
				if want.IdleTimeout != "" {
					assert.Equal(t, want.IdleTimeout, res.Action.IdleTimeout, "stream idle timeout")
				}
				if want.RemovedHeaders != nil {
					var got []string
					if rh := res.Action.RequestHeaders; rh != nil {
						got = rh.Remove
					}
					assert.ElementsMatch(t, want.RemovedHeaders, got, "removed request headers")
				}
			case want.Redirect != nil:
				rd := res.Action.Redirect
				require.NotNil(t, rd, "want a redirect, got %+v", res.Action)
				if want.Redirect.Scheme != "" {
					assert.Equal(t, want.Redirect.Scheme, rd.Scheme)
				}
				if want.Redirect.Host != "" {
					assert.Equal(t, want.Redirect.Host, rd.Host)
				}
				if want.Redirect.Port != 0 {
					assert.Equal(t, want.Redirect.Port, rd.Port)
				}
				if want.Redirect.StatusCode != 0 {
					assert.Equal(t, want.Redirect.StatusCode, rd.StatusCode)
				}
				if want.UpstreamPath != "" {
					loc, err := url.Parse(rd.Location)
					require.NoError(t, err)
					assert.Equal(t, want.UpstreamPath, loc.Path, "redirect path in %s", rd.Location)
				}
			case want.DirectResponse != nil:
				dr := res.Action.DirectResponse
				require.NotNil(t, dr, "want a direct response, got %+v", res.Action)
				assert.Equal(t, want.DirectResponse.Status, dr.Status)
			case want.Close:
				assert.True(t, res.Action.Close, "want the connection closed, got %+v (%s)", res.Action, res.Reason)
			case want.Serve:
				assert.True(t, res.Action.Serve, "want the server to handle it, got %+v (%s)", res.Action, res.Reason)
			default:
				t.Fatalf("request %d expects no action", i)
			}
		})
	}
}

// checkSecurity compares the TLS, RBAC, fault and cluster expectations of a request.
func checkSecurity(t *testing.T, gr goldenRequest, res *explain.Result) {
	t.Helper()
	want := gr.Expect
	if want.TLS != nil {
		if assert.NotNil(t, res.TLS, "the chain requires no client certificate") {
			assert.Equal(t, want.TLS.Accepted, res.TLS.Accepted, "tls accepted (%s)", res.TLS.Reason)
		}
	}
	if want.RBAC != nil {
		if assert.NotEmpty(t, res.RBAC, "no RBAC filter was evaluated (%s)", res.Reason) {
			r := res.RBAC[len(res.RBAC)-1]
			if want.RBAC.Denied {
				assert.False(t, r.Allowed, "rbac allowed by %s", r.Policy)
			} else {
				assert.True(t, r.Allowed, "rbac denied (considered %v)", r.Considered)
				assert.Equal(t, want.RBAC.AllowedBy, r.Policy, "rbac policy")
			}
		}
	}
	if want.Faults != nil {
		got := make([]bool, len(res.Faults))
		for i, f := range res.Faults {
			got[i] = f.Applies
		}
		exp := make([]bool, len(want.Faults))
		for i, f := range want.Faults {
			exp[i] = f.Applies
		}
		assert.Equal(t, exp, got, "faults applying")
	}
	if rl := want.RateLimit; rl != nil {
		require.NotNil(t, res.Action)
		got := res.Action.RateLimit
		if rl.None {
			assert.Nil(t, got, "rate limit")
		} else if assert.NotNil(t, got, "no rate limit on the route") {
			if rl.Requests != 0 {
				assert.Equal(t, rl.Requests, got.Requests, "rate limit requests")
			}
			if rl.Interval != "" {
				assert.Equal(t, rl.Interval, got.Interval, "rate limit interval")
			}
			if rl.Status != 0 {
				assert.Equal(t, rl.Status, got.Status, "rate limit status")
			}
		}
	}
	if c := want.Cluster; c != nil {
		require.NotNil(t, res.Action)
		require.NotEmpty(t, res.Action.Forward, "want cluster %s, got %+v", c.Name, res.Action)
		b := res.Action.Forward[0]
		assert.Equal(t, c.Name, b.Cluster, "cluster")
		checkPolicies(t, "cluster "+b.Cluster, c.Policies, b.Policies)
		if c.Type != "" {
			assert.Equal(t, c.Type, b.Type, "cluster type")
		}
		if c.Endpoints != nil {
			assert.Equal(t, c.Endpoints, b.Addresses, "cluster endpoints")
		}
		if c.Identity != "" || c.SAN != "" || c.Validation != "" || c.Verified != nil {
			require.NotNil(t, b.TLS, "cluster %s originates no TLS", b.Cluster)
			if c.Identity != "" {
				assert.Equal(t, []string{c.Identity}, b.TLS.Identity, "upstream identity")
			}
			if c.SAN != "" {
				var sans []string
				for _, s := range b.TLS.ServerSANs {
					switch {
					case s.Exact != nil:
						sans = append(sans, *s.Exact)
					case s.Prefix != nil:
						sans = append(sans, *s.Prefix)
					}
				}
				assert.Equal(t, []string{c.SAN}, sans, "server SAN")
			}
			if c.Validation != "" {
				assert.Equal(t, c.Validation, b.TLS.Validation, "upstream validation")
			}
			if c.Verified != nil {
				assert.Equal(t, *c.Verified, b.TLS.Verified, "server verified")
			}
		}
	}
}
