package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// parsedCRDs renders the CRDs, parses the YAML back (what kubectl would send) and indexes them
// by kind.
func parsedCRDs(t *testing.T) map[string]map[string]any {
	t.Helper()
	out, err := WriteDocuments(CRDs())
	require.NoError(t, err)
	byKind := map[string]map[string]any{}
	for _, doc := range decodeDocuments(t, out) {
		kind := dig(doc, "spec", "names", "kind").(string)
		byKind[kind] = doc
	}
	return byKind
}

func decodeDocuments(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err)
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func rootSchema(crd map[string]any) map[string]any {
	return dig(crd, "spec", "versions", 0, "schema", "openAPIV3Schema").(map[string]any)
}

// Kuma's names, scopes and short names (deployments/charts/kuma/crds/kuma.io_*.yaml).
func TestCRDNamesAndScopesAreKumas(t *testing.T) {
	crds := parsedCRDs(t)
	want := map[string]struct{ plural, scope, short string }{
		"Mesh":                {"meshes", "Cluster", "m"},
		"MeshGateway":         {"meshgateways", "Cluster", "mgw"},
		"MeshGatewayRoute":    {"meshgatewayroutes", "Cluster", ""},
		"MeshGatewayInstance": {"meshgatewayinstances", "Namespaced", ""},
		"Dataplane":           {"dataplanes", "Namespaced", "dpp"},
		"TrafficPermission":   {"trafficpermissions", "Cluster", ""},
		"TrafficLog":          {"trafficlogs", "Cluster", ""},
		"TrafficRoute":        {"trafficroutes", "Cluster", ""},
		"FaultInjection":      {"faultinjections", "Cluster", ""},
		"CircuitBreaker":      {"circuitbreakers", "Cluster", ""},
		"HealthCheck":         {"healthchecks", "Cluster", ""},
		"RateLimit":           {"ratelimits", "Cluster", ""},
		"Retry":               {"retries", "Cluster", ""},
		"Timeout":             {"timeouts", "Cluster", ""},
		"VirtualOutbound":     {"virtualoutbounds", "Cluster", ""},
		"ExternalService":     {"externalservices", "Cluster", ""},
		"ProxyTemplate":       {"proxytemplates", "Cluster", ""},
		"ZoneIngress":         {"zoneingresses", "Cluster", ""},
	}
	require.Len(t, crds, len(want), "Secret stays a core v1 Secret; every other kind is a CRD")
	for kind, w := range want {
		crd := crds[kind]
		require.NotNil(t, crd, kind)
		assert.Equal(t, w.plural+".kuma.io", dig(crd, "metadata", "name"), kind)
		assert.Equal(t, "kuma.io", dig(crd, "spec", "group"), kind)
		assert.Equal(t, w.plural, dig(crd, "spec", "names", "plural"), kind)
		assert.Equal(t, strings.ToLower(kind), dig(crd, "spec", "names", "singular"), kind)
		assert.Equal(t, kind+"List", dig(crd, "spec", "names", "listKind"), kind)
		assert.Equal(t, w.scope, dig(crd, "spec", "scope"), kind)
		if w.short == "" {
			assert.Nil(t, dig(crd, "spec", "names", "shortNames"), kind)
		} else {
			assert.Equal(t, []any{w.short}, dig(crd, "spec", "names", "shortNames"), kind)
		}
		assert.Equal(t, "v1alpha1", dig(crd, "spec", "versions", 0, "name"), kind)
		props := rootSchema(crd)["properties"].(map[string]any)
		_, hasMesh := props["mesh"]
		assert.Equal(t, kind != "Mesh" && kind != "ZoneIngress" && kind != "MeshGatewayInstance", hasMesh, "%s: top-level mesh as in Kuma's CRD", kind)
	}
}

func TestCRDSchemasAreStructural(t *testing.T) {
	for kind, crd := range parsedCRDs(t) {
		assert.Empty(t, checkStructural(kind, rootSchema(crd)), kind)
	}
}

// The checker itself must reject what the API server rejects, or the test above proves nothing.
func TestStructuralCheckerRejects(t *testing.T) {
	for name, schema := range map[string]string{
		"no type":           `{properties: {a: {type: string}}}`,
		"untyped property":  `{type: object, properties: {a: {pattern: x}}}`,
		"unknown keyword":   `{type: object, oneOf: []}`,
		"array no items":    `{type: array}`,
		"typed anyOf":       `{type: string, anyOf: [{type: integer}, {type: string}]}`,
		"props and addl":    `{type: object, properties: {a: {type: string}}, additionalProperties: {type: string}}`,
		"bad pattern":       `{type: string, pattern: "("}`,
		"int-or-string bad": `{x-kubernetes-int-or-string: true}`,
	} {
		var s map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(schema), &s))
		assert.NotEmpty(t, checkStructural("s", s), name)
	}
}

// kubernetesManifests are the repository's Kubernetes-form examples: the seed's, the
// policies', the customised MeshGatewayInstance and the golden kubernetes-form input.
func kubernetesManifests(t *testing.T) map[string][]map[string]any {
	t.Helper()
	var files []string
	for _, g := range []string{"../v1alpha1/testdata/*/*-k8s.yaml", "../v1alpha1/testdata/kubernetes/*.yaml",
		"../../xds/testdata/golden/kubernetes-form/input.yaml"} {
		m, err := filepath.Glob(g)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.GreaterOrEqual(t, len(files), 15)
	out := map[string][]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, doc := range decodeDocuments(t, data) {
			if doc["apiVersion"] == "kuma.io/v1alpha1" {
				out[f] = append(out[f], doc)
			}
		}
	}
	return out
}

func TestKubernetesManifestsValidateAgainstCRDs(t *testing.T) {
	crds := parsedCRDs(t)
	kinds := map[string]bool{}
	for file, docs := range kubernetesManifests(t) {
		for _, doc := range docs {
			kind, _ := doc["kind"].(string)
			crd := crds[kind]
			require.NotNil(t, crd, "%s: no CRD for kind %q", file, kind)
			kinds[kind] = true
			assert.Empty(t, validateValue("", rootSchema(crd), doc), "%s: %s", file, kind)
		}
	}
	for _, k := range []string{"Mesh", "MeshGateway", "MeshGatewayRoute", "MeshGatewayInstance", "TrafficPermission", "ProxyTemplate", "ExternalService"} {
		assert.True(t, kinds[k], "no Kubernetes example of %s was checked", k)
	}
}

// Every valid resource in api/v1alpha1's testdata, in either form, encoded as the decoder's
// types write it, must pass its kind's spec schema: the schema accepts what meshgate accepts.
func TestEveryDecodedSpecValidatesAgainstItsSchema(t *testing.T) {
	files, err := filepath.Glob("../v1alpha1/testdata/*/*.yaml")
	require.NoError(t, err)
	var objs []api.Object
	for _, f := range append(files, "../../examples") {
		// One file at a time: the two forms of one example define the same resource.
		o, _ := api.LoadFiles([]string{f})
		objs = append(objs, o...)
	}
	require.GreaterOrEqual(t, len(objs), 40)
	for _, o := range objs {
		m := o.GetMeta()
		info, _ := api.LookupKind(m.Kind)
		if m.Kind == api.KindSecret {
			continue
		}
		raw, err := api.Encode(o)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, yaml.Unmarshal(raw, &body))
		for _, header := range []string{"type", "name", "mesh", "labels", "creationTime", "modificationTime"} {
			delete(body, header)
		}
		assert.Empty(t, validateValue("spec", SpecSchema(info), normalize(body)), m.DisplayName())
	}
}

// normalize turns JSON-decoded numbers into what yaml.v3 decodes them to (int for integers).
func normalize(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = yaml.Unmarshal(raw, &out)
	return out
}

func TestSchemaRejectsWrongShapes(t *testing.T) {
	crds := parsedCRDs(t)
	cases := []struct{ kind, doc, want string }{
		{"MeshGateway", `{spec: {conf: {listeners: {port: 80}}}}`, ".spec.conf.listeners: must be a list"},
		{"MeshGateway", `{spec: {conf: {listeners: [{port: http}]}}}`, `.spec.conf.listeners[0].port: "http" does not match`},
		{"MeshGateway", `{spec: {conf: {listeners: [{port: -1}]}}}`, `.spec.conf.listeners[0].port: -1 is below the minimum 0`},
		{"MeshGateway", `{spec: {conf: {listeners: [{protocol: UDP}]}}}`, `.spec.conf.listeners[0].protocol: "UDP" is not one of`},
		{"MeshGateway", `{spec: {tags: {a: [1]}}}`, ".spec.tags[a]: must be a string"},
		{"MeshGateway", `{spec: {conf: {listeners: [{crossMesh: "yes"}]}}}`, ".spec.conf.listeners[0].crossMesh: must be a boolean"},
		{"MeshGatewayInstance", `{spec: {serviceType: ExternalName}}`, `.spec.serviceType: "ExternalName" is not one of`},
		{"MeshGatewayInstance", `{spec: {replicas: many}}`, `.spec.replicas: "many" does not match`},
		{"MeshGatewayInstance", `{spec: {resources: {limits: {memory: lots}}}}`, `.spec.resources.limits[memory]: "lots" does not match`},
		{"Mesh", `{unknown: 1}`, ": unknown field unknown"},
	}
	for _, tc := range cases {
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(tc.doc), &doc))
		errs := validateValue("", rootSchema(crds[tc.kind]), doc)
		require.Len(t, errs, 1, "%s %s: %v", tc.kind, tc.doc, errs)
		assert.Contains(t, errs[0], tc.want, tc.doc)
	}
}

// The decoder's accepted spellings must survive the API server: snake_case keys are not pruned,
// integers as strings are accepted.
func TestSchemaKeepsWhatTheDecoderAccepts(t *testing.T) {
	crds := parsedCRDs(t)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(`{spec: {conf: {listeners: [{port: "8080", protocol: HTTP, cross_mesh: true}]}}}`), &doc))
	assert.Empty(t, validateValue("", rootSchema(crds["MeshGateway"]), doc))
	listener := dig(rootSchema(crds["MeshGateway"]), "properties", "spec", "properties", "conf", "properties", "listeners", "items").(map[string]any)
	assert.Equal(t, true, listener["x-kubernetes-preserve-unknown-fields"], "snake_case keys must not be pruned")
}
