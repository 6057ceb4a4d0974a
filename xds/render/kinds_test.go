package render_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

// kindUse is how meshgate treats one resource kind, proven on a golden case.
type kindUse struct {
	// Case is the golden case that shows it.
	Case string
	// Ignored kinds are accepted and do nothing; xds/build records them as a policy decision
	// without an applied policy (as TrafficRoute and VirtualOutbound on a gateway), so explain
	// says why they do nothing. Every other kind is built: removing its resources from Case
	// changes the rendered configuration.
	Ignored bool
	// Shows is text that explain's JSON answer to one of Case's requests contains because of a
	// resource of this kind: it is there with the kind's resources and gone without them (a
	// built kind; an ignored one is shown by its decision).
	Shows string
	// Unexplained says why explain does not show a built kind yet: a known gap, listed so that
	// it is a decision and not an oversight.
	Unexplained string
}

// kindUses lists every kind api.Kinds() registers. A new kind is added here with the golden
// case that builds it, or as ignored; see CONTRIBUTING.md.
var kindUses = map[api.Kind]kindUse{
	api.KindMesh:              {Case: "sidecar-inbound-mtls-http", Shows: `"validation":"mesh_ca:secret:default"`},
	api.KindDataplane:         {Case: "seed-example", Shows: `"addresses":["10.0.0.11:8080"]`},
	api.KindMeshGateway:       {Case: "seed-example", Shows: `"listener":"edge-gateway:HTTP:8080"`},
	api.KindMeshGatewayRoute:  {Case: "seed-example", Shows: `"route":{"name":"edge-gateway-api-route"`},
	api.KindSecret:            {Case: "https-01-route-hostnames", Shows: `"filterChain":"edge-gateway:HTTPS:8443:*"`},
	api.KindTrafficPermission: {Case: "sidecar-permissions", Shows: `"policy":"web-to-backend"`},
	api.KindFaultInjection:    {Case: "sidecar-fault-injection", Shows: `"faults":[{"applies":true`},
	api.KindTrafficLog:        {Case: "traffic-log-file", Unexplained: "explain does not report access logs yet"},
	api.KindExternalService:   {Case: "external-service-gateway-route", Shows: `"addresses":["httpbin.org:443"]`},
	api.KindCircuitBreaker:    {Case: "policy-circuitbreaker", Shows: `{"kind":"CircuitBreaker","applied":"echo-service"`},
	api.KindHealthCheck:       {Case: "policy-healthcheck-http", Shows: `{"kind":"HealthCheck","applied":"echo-service"`},
	api.KindRateLimit:         {Case: "policy-ratelimit", Shows: `{"kind":"RateLimit","applied":"echo-service"`},
	api.KindRetry:             {Case: "policy-retry-http", Shows: `{"kind":"Retry","applied":"retry-all"`},
	api.KindTimeout:           {Case: "policy-timeout", Shows: `{"kind":"Timeout","applied":"echo-service"`},
	api.KindProxyTemplate:     {Case: "proxytemplate-cluster-patch", Shows: `"circuitBreaker":{"maxConnections":100,"maxPendingRequests":50`},
	api.KindTrafficRoute:      {Case: "policy-trafficroute-ignored", Ignored: true},
	api.KindVirtualOutbound:   {Case: "policy-virtualoutbound-ignored", Ignored: true},
	api.KindZoneIngress:       {Case: "multizone-gateway-remote-only", Shows: `ZoneIngress of zone zone-2`},
}

// TestEveryKindBuiltOrIgnored fails when a registered kind is neither built nor listed as
// ignored, or when explain does not show it.
func TestEveryKindBuiltOrIgnored(t *testing.T) {
	for _, kind := range api.Kinds() {
		_, ok := kindUses[kind]
		require.True(t, ok, "kind %s is registered but not in kindUses: build it and name a golden case that uses it, or record it as ignored (see CONTRIBUTING.md)", kind)
	}
	for kind, use := range kindUses {
		t.Run(string(kind), func(t *testing.T) {
			_, ok := api.LookupKind(kind)
			require.True(t, ok, "kindUses lists %s, which is not registered", kind)
			dir := filepath.Join(goldenDir, use.Case)
			c := readCase(t, dir)
			objs, gen := loadObjects(t, dir)
			with := renderObjects(t, c, objs, gen)
			answers := explainCase(t, dir, with)
			if use.Ignored {
				requireIgnored(t, kind, with, answers)
				return
			}
			without := renderObjects(t, c, withoutKind(t, c, objs, kind), gen)
			require.NotEqual(t, renderedText(t, with, gen), renderedText(t, without, gen),
				"removing every %s from %s changes nothing: is the kind built?", kind, use.Case)
			if use.Unexplained != "" {
				t.Logf("%s is built but not shown by explain: %s", kind, use.Unexplained)
				return
			}
			require.NotEmpty(t, use.Shows, "%s: say what explain shows of it (Shows) or why it cannot (Unexplained)", kind)
			require.True(t, containsAny(answers, use.Shows), "explain of %s's requests never shows %q (%s)", use.Case, use.Shows, kind)
			require.False(t, containsAny(explainAnswers(t, dir, without), use.Shows), "explain shows %q for %s even without any %s: it does not come from the kind", use.Shows, use.Case, kind)
		})
	}
}

// withoutKind drops every resource of kind except the rendered dataplane itself.
func withoutKind(t *testing.T, c goldenCase, objs []api.Object, kind api.Kind) []api.Object {
	t.Helper()
	mesh, name, err := render.ParseDataplane(c.Dataplane)
	require.NoError(t, err)
	var out []api.Object
	removed := 0
	for _, o := range objs {
		m := o.GetMeta()
		if m.Kind == kind && !(kind == api.KindDataplane && m.Mesh == mesh && m.Name == name) {
			removed++
			continue
		}
		out = append(out, o)
	}
	require.NotZero(t, removed, "case has no %s to remove", kind)
	return out
}

func renderObjects(t *testing.T, c goldenCase, objs []api.Object, gen *generatedCerts) *render.Output {
	t.Helper()
	m, errs := model.Build(objs)
	require.Empty(t, errs)
	return renderCase(t, c, m, gen)
}

// renderedText is the IR and the Envoy resources as the golden files record them.
func renderedText(t *testing.T, out *render.Output, gen *generatedCerts) string {
	t.Helper()
	doc, err := render.NewDocument(out.Resources)
	require.NoError(t, err)
	got, err := render.Marshal(gen.scrub(map[string]any{
		"ir": irDocument(out.Proxy, gen), "listeners": doc.Listeners, "routes": doc.Routes,
		"clusters": doc.Clusters, "endpoints": doc.Endpoints,
	}), "yaml")
	require.NoError(t, err)
	return string(got)
}

// explainCase returns explain's JSON answer to each of the case's requests.
func explainCase(t *testing.T, dir string, out *render.Output) []string {
	t.Helper()
	answers := explainAnswers(t, dir, out)
	for _, a := range answers {
		require.False(t, strings.HasPrefix(a, "error: "), a)
	}
	return answers
}

// explainAnswers is explainCase that records an error as the answer `error: ...`.
func explainAnswers(t *testing.T, dir string, out *render.Output) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "requests.yaml"))
	require.NoError(t, err)
	var reqs []goldenRequest
	require.NoError(t, yaml.Unmarshal(raw, &reqs))
	var answers []string
	for _, gr := range reqs {
		res, err := explain.Explain(out.Resources, explainRequest(gr))
		if err != nil {
			answers = append(answers, "error: "+err.Error())
			continue
		}
		js, err := json.Marshal(res)
		require.NoError(t, err)
		answers = append(answers, string(js))
	}
	return answers
}

// requireIgnored checks that the IR records kind as ignored (a decision without an applied
// policy) and that explain reports it so to at least one request.
func requireIgnored(t *testing.T, kind api.Kind, out *render.Output, answers []string) {
	t.Helper()
	var recorded bool
	for _, l := range out.Proxy.Listeners {
		for _, fc := range l.FilterChains {
			if fc.HTTP == nil {
				continue
			}
			for _, vh := range fc.HTTP.RouteConfig.VirtualHosts {
				for _, r := range vh.Routes {
					if r.Forward == nil {
						continue
					}
					for _, d := range r.Forward.Policies {
						recorded = recorded || d.Kind == string(kind) && d.Applied == ""
					}
				}
			}
		}
	}
	require.True(t, recorded, "no route of the IR records %s as ignored", kind)
	shown := false
	for _, a := range answers {
		var res explain.Result
		require.NoError(t, json.Unmarshal([]byte(a), &res))
		for _, p := range res.Policies {
			shown = shown || p.Kind == string(kind) && p.Ignored()
		}
	}
	require.True(t, shown, "explain shows %s as ignored for no request", kind)
}

func containsAny(answers []string, s string) bool {
	for _, a := range answers {
		if s != "" && strings.Contains(a, s) {
			return true
		}
	}
	return false
}
