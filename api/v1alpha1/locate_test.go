package v1alpha1

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPathPrefixes(t *testing.T) {
	assert.Equal(t, []string{
		`conf.http.rules[0].matches[1].path.value`,
		`conf.http.rules[0].matches[1].path`,
		`conf.http.rules[0].matches[1]`,
		`conf.http.rules[0].matches`,
		`conf.http.rules[0]`,
		`conf.http.rules`,
		`conf.http`,
		`conf`,
	}, pathPrefixes(`conf.http.rules[0].matches[1].path.value`))
	assert.Equal(t, []string{
		`selectors[0].match["kuma.io/service"]`,
		`selectors[0].match`,
		`selectors[0]`,
		`selectors`,
	}, pathPrefixes(`selectors[0].match["kuma.io/service"]`))
	assert.Equal(t, []string{`tags["a.b[\"c]"].x`, `tags["a.b[\"c]"]`, `tags`}, pathPrefixes(`tags["a.b[\"c]"].x`))
	assert.Empty(t, pathPrefixes(""))
}

func TestLocate(t *testing.T) {
	gw := &MeshGateway{Meta: Meta{
		Kind: KindMeshGateway, Mesh: "default", Name: "edge",
		Source: Source{File: "gw.yaml", Line: 3, Fields: map[string]int{
			"conf":                            10,
			"conf.listeners":                  11,
			"conf.listeners[0]":               12,
			`conf.listeners[0].tags["x.y/z"]`: 15,
		}},
	}}
	got := Locate(gw, ErrorList{
		{Field: "conf.listeners[0].tls.mode", Message: "cannot be empty"},
		{Field: `conf.listeners[0].tags["x.y/z"]`, Message: "bad"},
		{Field: "selectors", Message: "must have at least one element"},
		{Field: "", Message: "whole resource"},
		{File: "other.yaml", Line: 99, Resource: "X", Field: "conf", Message: "kept"},
	})
	assert.Equal(t, []string{
		"gw.yaml:3: MeshGateway default/edge: whole resource",
		"gw.yaml:3: MeshGateway default/edge: selectors: must have at least one element",
		"gw.yaml:12: MeshGateway default/edge: conf.listeners[0].tls.mode: cannot be empty",
		`gw.yaml:15: MeshGateway default/edge: conf.listeners[0].tags["x.y/z"]: bad`,
		"other.yaml:99: X: conf: kept",
	}, errStrings(got))
	assert.Nil(t, Locate(gw, nil))
}

func TestErrorFormat(t *testing.T) {
	e := FieldError{File: "routes.yaml", Line: 14, Resource: "MeshGatewayRoute default/edge-route",
		Field: "conf.http.rules[0].matches[0].path.value", Message: "must be an absolute path"}
	assert.Equal(t, "routes.yaml:14: MeshGatewayRoute default/edge-route: conf.http.rules[0].matches[0].path.value: must be an absolute path", e.Error())
}

func TestRegistry(t *testing.T) {
	assert.Equal(t, []Kind{KindCircuitBreaker, KindDataplane, KindExternalService, KindFaultInjection,
		KindHealthCheck, KindMesh, KindMeshGateway, KindMeshGatewayRoute, KindProxyTemplate, KindRateLimit,
		KindRetry, KindSecret, KindTimeout, KindTrafficLog, KindTrafficPermission, KindTrafficRoute,
		KindVirtualOutbound, KindZoneIngress}, Kinds())
	info, ok := LookupKind(KindMesh)
	assert.True(t, ok)
	assert.True(t, info.Global)
	assert.Panics(t, func() { Register(KindInfo{Kind: KindMesh, New: func() Object { return &Mesh{} }}) })
	assert.Panics(t, func() { Register(KindInfo{Kind: "Broken", New: func() Object { return nil }}) })
}

func TestMetaProblem(t *testing.T) {
	pt := &ProxyTemplate{Meta: Meta{
		Kind: KindProxyTemplate, Mesh: "default", Name: "pt",
		Source: Source{File: "pt.yaml", Line: 2, Fields: map[string]int{"conf": 7, "conf.imports": 8}},
	}}
	p := pt.Problem("conf.imports", "imports empty")
	assert.Equal(t, FieldError{File: "pt.yaml", Line: 8, Resource: "ProxyTemplate default/pt", Field: "conf.imports", Message: "imports empty"}, p)
	assert.Equal(t, "pt.yaml:8: ProxyTemplate default/pt: conf.imports: imports empty", p.Error())
	assert.Equal(t, "ProxyTemplate default/pt: conf.imports: imports empty", p.Unlocated())
	whole := pt.Problem("", "invalid")
	assert.Equal(t, 2, whole.Line, "a problem without a field is at the document")
	assert.Equal(t, "ProxyTemplate default/pt: invalid", whole.Unlocated())
	unread := (&Meta{Kind: KindMesh, Name: "m"}).Problem("mtls", "x")
	assert.Equal(t, "Mesh m: mtls: x", unread.Error(), "a resource not read from a file has no location")
}

// The JSON form is the one the status API and the golden diagnostics.yaml files carry.
func TestFieldErrorJSON(t *testing.T) {
	b, err := json.Marshal(FieldError{File: "a.yaml", Line: 3, Resource: "Mesh m", Field: "", Message: "x"})
	require.NoError(t, err)
	assert.Equal(t, `{"Resource":"Mesh m","Field":"","Message":"x"}`, string(b))
}
