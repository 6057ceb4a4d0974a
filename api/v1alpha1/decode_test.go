package v1alpha1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 10)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			objs, errs := LoadFiles([]string{f})
			require.Empty(t, errStrings(errs))
			require.Len(t, objs, 1)
			m := objs[0].GetMeta()
			assert.Equal(t, f, m.Source.File)
			assert.Equal(t, 1, m.Source.Line)
			if m.Kind != KindMesh {
				assert.Equal(t, "default", m.Mesh)
			}
		})
	}
}

func TestSeedExamplesDecodeTheirContent(t *testing.T) {
	objs, errs := LoadFiles([]string{"testdata/seed/meshgatewayroute.yaml"})
	require.Empty(t, errs)
	route := objs[0].(*MeshGatewayRoute)
	assert.Equal(t, "edge-gateway-route", route.Name)
	rule := route.Spec.Conf.HTTP.Rules[0]
	assert.Equal(t, &PathMatch{Match: PathPrefix, Value: "/"}, rule.Matches[0].Path)
	assert.Equal(t, map[string]string{ServiceTag: "demo-app_kuma-demo_svc_5000"}, rule.Backends[0].Destination)
	assert.Nil(t, rule.Backends[0].Weight)
	assert.Equal(t, uint32(1), rule.Backends[0].EffectiveWeight())

	objs, errs = LoadFiles([]string{"testdata/spec/meshgateway.yaml"})
	require.Empty(t, errs)
	gw := objs[0].(*MeshGateway)
	l := gw.Spec.Conf.Listeners[0]
	assert.Equal(t, Listener{
		Hostname: "foo.example.com", Port: 8443, Protocol: ProtocolHTTPS,
		TLS:       &ListenerTLS{Mode: TLSModeTerminate, Certificates: []DataSource{{Secret: "foo-example-com-cert"}}},
		Tags:      map[string]string{"vhost": "foo.example.com"},
		Resources: &ListenerResources{ConnectionLimit: 10000},
	}, l)
	assert.Equal(t, map[string]string{"product": "edge"}, gw.Spec.Tags)

	objs, errs = LoadFiles([]string{"testdata/spec/mesh.yaml"})
	require.Empty(t, errs)
	mesh := objs[0].(*Mesh)
	assert.Equal(t, "Mesh default", mesh.DisplayName())
	assert.Equal(t, "24h", mesh.Spec.MTLS.Backends[0].DpCert.Rotation.Expiration)
	assert.Equal(t, map[string]any{"caCert": map[string]any{"RSAbits": int64(2048), "expiration": "10y"}}, mesh.Spec.MTLS.Backends[0].Conf)
}

func TestKubernetesAndUniversalFormsAgree(t *testing.T) {
	pairs := [][2]string{
		{"testdata/seed/meshgateway.yaml", "testdata/seed/meshgateway-k8s.yaml"},
		{"testdata/seed/meshgatewayroute.yaml", "testdata/seed/meshgatewayroute-k8s.yaml"},
	}
	for _, p := range pairs {
		t.Run(p[1], func(t *testing.T) {
			u, errs := LoadFiles([]string{p[0]})
			require.Empty(t, errs)
			k, errs := LoadFiles([]string{p[1]})
			require.Empty(t, errs)
			assertSameResource(t, u[0], k[0])
		})
	}

	inline := []struct{ name, universal, kube string }{
		{"Dataplane", `
type: Dataplane
mesh: other
name: web-1
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    tags:
      kuma.io/service: web
`, `
apiVersion: kuma.io/v1alpha1
kind: Dataplane
mesh: other
metadata:
  name: web-1
spec:
  networking:
    address: 10.0.0.1
    inbound:
    - port: 8080
      tags:
        kuma.io/service: web
`},
		{"Mesh", `
type: Mesh
name: payments
mtls:
  enabledBackend: ca-1
  backends:
  - name: ca-1
    type: builtin
`, `
apiVersion: kuma.io/v1alpha1
kind: Mesh
metadata:
  name: payments
spec:
  mtls:
    enabledBackend: ca-1
    backends:
    - name: ca-1
      type: builtin
`},
		{"Secret", `
type: Secret
mesh: other
name: cert
data: aGVsbG8=
`, `
apiVersion: v1
kind: Secret
type: system.kuma.io/secret
metadata:
  name: cert
  namespace: kuma-system
  labels:
    kuma.io/mesh: other
data:
  value: aGVsbG8=
`},
		{"mesh from label", `
type: MeshGateway
mesh: other
name: gw
selectors:
- match: {kuma.io/service: gw}
conf: {listeners: [{port: 80, protocol: HTTP}]}
`, `
apiVersion: kuma.io/v1alpha1
kind: MeshGateway
metadata:
  name: gw
  labels:
    kuma.io/mesh: other
spec:
  selectors:
  - match: {kuma.io/service: gw}
  conf: {listeners: [{port: 80, protocol: HTTP}]}
`},
	}
	for _, tc := range inline {
		t.Run(tc.name, func(t *testing.T) {
			assertSameResource(t, decodeOne(t, tc.universal), decodeOne(t, tc.kube))
		})
	}
}

// assertSameResource compares what both forms must agree on: identity, spec and field paths.
func assertSameResource(t *testing.T, a, b Object) {
	t.Helper()
	ma, mb := a.GetMeta(), b.GetMeta()
	assert.Equal(t, ma.Key(), mb.Key())
	specA, _ := specOf(a)
	specB, _ := specOf(b)
	assert.Equal(t, specA.Interface(), specB.Interface())
	assert.ElementsMatch(t, mapKeys(ma.Source.Fields), mapKeys(mb.Source.Fields))
}

func mapKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSnakeCaseKeysEqualCamelCase(t *testing.T) {
	camel := decodeOne(t, `
type: MeshGatewayRoute
name: r
selectors: [{match: {kuma.io/service: gw}}]
conf:
  http:
    rules:
    - matches:
      - path: {match: PREFIX, value: /api}
        queryParameters: [{match: REGEX, name: q, value: "a.*"}]
      filters:
      - requestHeader: {set: [{name: x-a, value: b}]}
      - responseHeader: {remove: [x-b]}
      - rewrite: {replacePrefixMatch: /v2, hostToBackendHostname: true}
      backends: [{destination: {kuma.io/service: api}}]
    - matches: [{path: {value: /old}}]
      filters:
      - redirect: {scheme: https, statusCode: 301, path: {replaceFull: /new}}
`).(*MeshGatewayRoute)
	snake := decodeOne(t, `
type: MeshGatewayRoute
name: r
selectors: [{match: {kuma.io/service: gw}}]
conf:
  http:
    rules:
    - matches:
      - path: {match: PREFIX, value: /api}
        query_parameters: [{match: REGEX, name: q, value: "a.*"}]
      filters:
      - request_header: {set: [{name: x-a, value: b}]}
      - response_header: {remove: [x-b]}
      - rewrite: {replace_prefix_match: /v2, host_to_backend_hostname: true}
      backends: [{destination: {kuma.io/service: api}}]
    - matches: [{path: {value: /old}}]
      filters:
      - redirect: {scheme: https, status_code: 301, path: {replace_full: /new}}
`).(*MeshGatewayRoute)
	assertSameResource(t, camel, snake)
	assert.Equal(t, uint32(301), snake.Spec.Conf.HTTP.Rules[1].Filters[0].Redirect.StatusCode)
	assert.Equal(t, 13, snake.Source.Fields["conf.http.rules[0].filters[2].rewrite.replacePrefixMatch"])

	gw := decodeOne(t, `
type: MeshGateway
name: gw
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
  - port: 8443
    protocol: HTTPS
    cross_mesh: false
    tls: {mode: TERMINATE, certificates: [{inline_string: pem}]}
    resources: {connection_limit: 5}
`).(*MeshGateway)
	assert.Equal(t, "pem", gw.Spec.Conf.Listeners[0].TLS.Certificates[0].InlineString)
	assert.Equal(t, uint32(5), gw.Spec.Conf.Listeners[0].Resources.ConnectionLimit)

	mesh := decodeOne(t, `
type: Mesh
name: m
mtls:
  enabled_backend: ca
  backends: [{name: ca, type: builtin, dp_cert: {rotation: {expiration: 1d}}}]
`).(*Mesh)
	assert.Equal(t, "ca", mesh.Spec.MTLS.EnabledBackend)
	assert.Equal(t, "1d", mesh.Spec.MTLS.Backends[0].DpCert.Rotation.Expiration)
}

func TestJSONDocuments(t *testing.T) {
	gw := decodeOne(t, `{
  "type": "MeshGateway",
  "mesh": "default",
  "name": "gw",
  "selectors": [{"match": {"kuma.io/service": "gw"}}],
  "conf": {"listeners": [{"port": "8080", "protocol": "HTTP", "crossMesh": true}]}
}`).(*MeshGateway)
	assert.Equal(t, uint32(8080), gw.Spec.Conf.Listeners[0].Port, "protojson accepts numbers as strings")
	assert.True(t, gw.Spec.Conf.Listeners[0].CrossMesh)
	assert.Equal(t, 6, gw.Source.Fields["conf.listeners[0].port"])

	assert.Equal(t, []string{
		`test.yaml:3: MeshGateway default/gw: conf.listeners[0]: unknown field "prot"`,
	}, decodeErrs(`{"type": "MeshGateway", "name": "gw",
  "selectors": [{"match": {"kuma.io/service": "gw"}}],
  "conf": {"listeners": [{"port": 8080, "prot": "HTTP", "protocol": "HTTP"}]}}`))
}

func TestUnsetIsDistinctFromZero(t *testing.T) {
	route := decodeOne(t, `
type: MeshGatewayRoute
name: r
selectors: [{match: {kuma.io/service: gw}}]
conf:
  http:
    rules:
    - matches: [{path: {value: /}}]
      filters: [{mirror: {percentage: 0, backend: {destination: {kuma.io/service: shadow}}}}]
      backends:
      - destination: {kuma.io/service: a}
      - weight: 0
        destination: {kuma.io/service: b}
`).(*MeshGatewayRoute)
	rule := route.Spec.Conf.HTTP.Rules[0]
	assert.Nil(t, rule.Backends[0].Weight)
	require.NotNil(t, rule.Backends[1].Weight)
	assert.Equal(t, uint32(0), *rule.Backends[1].Weight)
	require.NotNil(t, rule.Filters[0].Mirror.Percentage)
	assert.Equal(t, 0.0, *rule.Filters[0].Mirror.Percentage)
}

func TestFreeFormFieldsAcceptAnyYAML(t *testing.T) {
	mesh := decodeOne(t, `
type: Mesh
name: m
tracing:
  defaultBackend: zipkin
  backends:
  - name: zipkin
    type: zipkin
    conf: {url: "http://zipkin:9411", "weird key!": [1, 2.5, true, null, "s"]}
metrics: {enabledBackend: prom, backends: [{name: prom, type: prometheus, conf: {port: 5670}}]}
`).(*Mesh)
	assert.Equal(t, map[string]any{
		"defaultBackend": "zipkin",
		"backends": []any{map[string]any{
			"name": "zipkin", "type": "zipkin",
			"conf": map[string]any{"url": "http://zipkin:9411", "weird key!": []any{int64(1), 2.5, true, nil, "s"}},
		}},
	}, mesh.Spec.Tracing)
	assert.Equal(t, 8, mesh.Source.Fields["tracing.backends[0].conf.url"])
	assert.Equal(t, 8, mesh.Source.Fields[`tracing.backends[0].conf["weird key!"][1]`])
	assert.Contains(t, mesh.Spec.Metrics, "enabledBackend")
}

func TestAnchorsAliasesAndMergeKeys(t *testing.T) {
	objs, errs := Decode("test.yaml", []byte(doc(`
type: MeshGateway
name: gw
selectors: [{match: &svc {kuma.io/service: gw}}]
conf:
  listeners:
  - &base {port: 8080, protocol: HTTP, hostname: a.example.com, tags: *svc2}
  - <<: *base
    hostname: b.example.com
tags: &svc2 {team: edge}
`)))
	// *svc2 is used before its anchor is defined: a YAML error.
	assert.Empty(t, objs)
	assert.Equal(t, []string{`test.yaml:6: invalid YAML: unknown anchor 'svc2' referenced`}, errStrings(errs))

	gw := decodeOne(t, `
type: MeshGateway
name: gw
tags: &team {team: edge}
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
  - &base {port: 8080, protocol: HTTP, hostname: a.example.com, tags: *team}
  - <<: *base
    hostname: b.example.com
`).(*MeshGateway)
	ls := gw.Spec.Conf.Listeners
	require.Len(t, ls, 2)
	assert.Equal(t, "b.example.com", ls[1].Hostname, "explicit keys win over merged ones")
	assert.Equal(t, uint32(8080), ls[1].Port)
	assert.Equal(t, map[string]string{"team": "edge"}, ls[1].Tags)
}

func TestAliasesCannotExplode(t *testing.T) {
	var b strings.Builder
	b.WriteString("type: Mesh\nname: m\ntracing:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		b.WriteString("  " + n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n")
		prev = n
	}
	start := time.Now()
	objs, errs := Decode("bomb.yaml", []byte(b.String()))
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Empty(t, objs)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "aliases expand to too many nodes (more than 100000 in this file)")

	assert.Equal(t, []string{
		`test.yaml:3: Mesh m: tracing.b: anchor "a" is used inside its own value`,
	}, decodeErrs(`
type: Mesh
name: m
tracing: &a {b: *a}
`))
	assert.Equal(t, []string{
		`test.yaml:3: Mesh m: tracing: anchor "a" is used inside its own value`,
	}, decodeErrs(`
type: Mesh
name: m
tracing: &a
  <<: *a
`))
}

func TestEmptyDocumentsAreSkipped(t *testing.T) {
	objs, errs := Decode("test.yaml", []byte(doc(`
---
# a comment-only document
---
type: Mesh
name: a
---
---
type: Mesh
name: b
---
`)))
	require.Empty(t, errs)
	require.Len(t, objs, 2)
	assert.Equal(t, 4, objs[0].GetMeta().Source.Line)
	assert.Equal(t, 8, objs[1].GetMeta().Source.Line)

	objs, errs = Decode("empty.yaml", nil)
	assert.Empty(t, objs)
	assert.Empty(t, errs)
}

func TestMultiDocumentErrorsAreAllReportedInLineOrder(t *testing.T) {
	objs, errs := Decode("routes.yaml", []byte(doc(`
type: MeshGatewayRoute
mesh: default
name: edge-route
selectors:
- match:
    kuma.io/service: edge-gateway
conf:
  http:
    rules:
    - matches:
      - path:
          match: EXACT
          value: api
      backends:
      - destination: {kuma.io/service: api, version: ""}
---
type: MeshGateway
name: edge-gateway
selectors: [{match: {kuma.io/service: edge-gateway}}]
conf:
  listeners:
  - port: 0
    protocol: HTTP
    bogus: 1
---
type: Mesh
name: fine
---
type: Dataplane
name: dp
networking:
  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}
`)))
	require.Len(t, objs, 1)
	assert.Equal(t, "Mesh fine", objs[0].GetMeta().DisplayName())
	// The gateway's port 0 is not reported: a resource that fails to decode is not validated.
	assert.Equal(t, []string{
		`routes.yaml:13: MeshGatewayRoute default/edge-route: conf.http.rules[0].matches[0].path.value: must be an absolute path`,
		`routes.yaml:15: MeshGatewayRoute default/edge-route: conf.http.rules[0].backends[0].destination["version"]: tag value must be non-empty`,
		`routes.yaml:24: MeshGateway default/edge-gateway: conf.listeners[0]: unknown field "bogus"`,
		`routes.yaml:31: Dataplane default/dp: networking.address: address can't be empty`,
	}, errStrings(errs))
}

func TestDecodeErrors(t *testing.T) {
	gw := func(listener string) string {
		return "type: MeshGateway\nname: gw\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  listeners:\n  - " + listener + "\n"
	}
	runErrCases(t, []errCase{
		{"unknown top-level field", gw("{port: 80, protocol: HTTP}") + "foo: bar\n", []string{
			`test.yaml:7: MeshGateway default/gw: unknown field "foo"`}},
		{"unknown nested field", gw("{port: 80, protocol: HTTP, prot: TCP}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0]: unknown field "prot"`}},
		{"string for integer", gw("{port: http, protocol: HTTP}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].port: must be an integer`}},
		{"float for integer", gw("{port: 80.5, protocol: HTTP}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].port: must be an integer`}},
		{"negative unsigned", gw("{port: -1, protocol: HTTP}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].port: must be an integer in the range [0, 4294967295]`}},
		{"too large", gw("{port: 99999999999999999999999, protocol: HTTP}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].port: must be an integer in the range [0, 4294967295]`}},
		{"number for string", gw("{port: 80, protocol: HTTP, hostname: 42}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].hostname: must be a string`}},
		{"number for tag value", gw("{port: 80, protocol: HTTP, tags: {version: 1}}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].tags["version"]: must be a string`}},
		{"yes is not a boolean", gw("{port: 80, protocol: HTTP, crossMesh: yes}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].crossMesh: must be a boolean`}},
		{"list for mapping", gw("{port: 80, protocol: HTTP, tags: [a]}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].tags: must be a mapping`}},
		{"mapping for list", "type: MeshGateway\nname: gw\nselectors: {match: {kuma.io/service: gw}}\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			`test.yaml:3: MeshGateway default/gw: selectors: must be a list`}},
		{"unknown enum value", gw("{port: 80, protocol: HTTP2}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].protocol: invalid value "HTTP2": must be one of TCP, TLS, HTTP, HTTPS`}},
		{"enum names are case-sensitive", gw("{port: 443, protocol: HTTPS, tls: {mode: terminate}}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].tls.mode: invalid value "terminate": must be one of TERMINATE, PASSTHROUGH`}},
		{"gateway type", "type: Dataplane\nname: dp\nnetworking:\n  address: 1.1.1.1\n  gateway: {type: EMBEDDED, tags: {kuma.io/service: gw}}\n", []string{
			`test.yaml:5: Dataplane default/dp: networking.gateway.type: invalid value "EMBEDDED": must be one of DELEGATED, BUILTIN`}},
		{"duplicate key", gw("{port: 80, protocol: HTTP, tags: {a: x, a: y}}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0].tags: duplicate key "a"`}},
		{"duplicate field in two spellings", gw("{port: 80, protocol: HTTP, crossMesh: true, cross_mesh: true}"), []string{
			`test.yaml:6: MeshGateway default/gw: conf.listeners[0]: duplicate field "crossMesh"`}},
		{"duplicate top-level field", "type: Mesh\nname: a\nname: b\n", []string{
			`test.yaml:3: Mesh a: duplicate field "name"`}},
		{"missing type", "name: gw\nmesh: default\n", []string{
			`test.yaml:1: type: cannot be empty`}},
		{"kubernetes-only type", "type: MeshGatewayInstance\nname: gw\n", []string{
			`test.yaml:1: type: MeshGatewayInstance exists only on Kubernetes: write it as a kuma.io/v1alpha1 object`}},
		{"unknown type", "type: MeshHTTPRoute\nname: gw\n", []string{
			`test.yaml:1: type: unknown type "MeshHTTPRoute" (known: CircuitBreaker, Dataplane, ExternalService, FaultInjection, HealthCheck, Mesh, MeshGateway, MeshGatewayRoute, ProxyTemplate, RateLimit, Retry, Secret, Timeout, TrafficLog, TrafficPermission, TrafficRoute, VirtualOutbound, ZoneIngress)`}},
		{"missing name", "type: Mesh\nmtls: {}\n", []string{
			`test.yaml:1: name: cannot be empty`}},
		{"mesh on a Mesh", "type: Mesh\nname: m\nmesh: default\n", []string{
			`test.yaml:3: Mesh m: unknown field "mesh"`}},
		{"bad timestamp", "type: Mesh\nname: m\ncreationTime: yesterday\n", []string{
			`test.yaml:3: Mesh m: creationTime: must be a timestamp in RFC 3339 format`}},
		{"document not a mapping", "- type: Mesh\n  name: m\n", []string{
			"test.yaml:1: a resource must be a mapping (with `type` and `name`, or `apiVersion`, `kind` and `metadata`)"}},
		{"syntax error", "type: Mesh\nname: m\n  mtls: {}\n", []string{
			`test.yaml:3: invalid YAML: mapping values are not allowed in this context`}},
		{"mapping key that is a list", "type: Mesh\nname: m\nlogging: {[a]: b}\n", []string{
			`test.yaml:3: Mesh m: logging: mapping keys must be strings`}},
		{"infinite number in free-form field", "type: Mesh\nname: m\ntracing: {x: .inf}\n", []string{
			`test.yaml:3: Mesh m: tracing.x: must be a finite number`}},
	})
}

func TestUniversalMetadata(t *testing.T) {
	m := decodeOne(t, `
type: Mesh
name: m
creationTime: 2021-09-01T12:00:00Z
modificationTime: "2021-09-02T12:00:00.5+02:00"
labels: {team: core}
`).(*Mesh)
	assert.Equal(t, time.Date(2021, 9, 1, 12, 0, 0, 0, time.UTC), m.CreationTime)
	assert.True(t, m.ModificationTime.Equal(time.Date(2021, 9, 2, 10, 0, 0, 5e8, time.UTC)))
	assert.Equal(t, map[string]string{"team": "core"}, m.Labels)
	assert.NotContains(t, m.Source.Fields, `labels["team"]`, "only spec paths (and name/mesh) are recorded")
	assert.Equal(t, 2, m.Source.Fields["name"])
}

func TestTestdataIsVerbatimFromSeed(t *testing.T) {
	// shared/ sits beside the repository, on developer machines and in CI alike.
	seed, err := os.ReadFile("../../../shared/seed/gateway-overview.md")
	if err != nil {
		t.Skip("seed document not available beside the repository")
	}
	files, _ := filepath.Glob("testdata/seed/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Contains(t, string(seed), string(data), f)
	}
}

func TestAnchoredValuesOfPointerFields(t *testing.T) {
	gw := decodeOne(t, `
type: MeshGateway
name: gw
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
  - port: 443
    protocol: HTTPS
    hostname: a.example.com
    tls: &tls {mode: TERMINATE, certificates: [{secret: a}]}
    resources: &res {connectionLimit: 5}
  - port: 443
    protocol: HTTPS
    hostname: b.example.com
    tls: *tls
    resources: *res
`).(*MeshGateway)
	ls := gw.Spec.Conf.Listeners
	assert.Equal(t, ls[0].TLS, ls[1].TLS)
	assert.NotSame(t, ls[0].TLS, ls[1].TLS, "each use of an alias decodes into its own value")
	assert.Equal(t, uint32(5), ls[1].Resources.ConnectionLimit)
}

func TestYAMLSyntaxErrorsHaveLines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"type: Mesh\nname: m\n  mtls: {}\n", "test.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		{"\t- a\n", "test.yaml:1: invalid YAML: found character that cannot start any token"},
		{"type: Mesh\nname: m\nlogging: *nope\n", "test.yaml:3: invalid YAML: unknown anchor 'nope' referenced"},
		{"type: Mesh\nname: m\nlogging: {a: \"\xff\"}\n", "test.yaml:3: invalid YAML: invalid leading UTF-8 octet"},
		{"type: Mesh\n---\ntype: Mesh\nname: \x01\n", "test.yaml:4: invalid YAML: control characters are not allowed"},
	} {
		assert.Equal(t, []string{tc.want}, decodeErrs(tc.in), tc.in)
	}
}
