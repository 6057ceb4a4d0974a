package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

const example = "../../examples/gateway"

func TestRenderJSON(t *testing.T) {
	out, stderr, code := runCLI(t, "render", "-f", example, "--dataplane", "default/gateway-instance-1", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var doc map[string][]map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	for _, key := range []string{"listeners", "routes", "clusters", "endpoints", "secrets"} {
		require.Contains(t, doc, key)
	}
	require.Len(t, doc["listeners"], 1)
	assert.Equal(t, "type.googleapis.com/envoy.config.listener.v3.Listener", doc["listeners"][0]["@type"])
	assert.Equal(t, "edge-gateway:HTTP:8080", doc["listeners"][0]["name"])
	var clusters []string
	for _, c := range doc["clusters"] {
		clusters = append(clusters, c["name"].(string))
	}
	assert.Equal(t, []string{"api", "frontend"}, clusters)
}

func TestRenderRedactsPrivateKeys(t *testing.T) {
	dir := t.TempDir()
	writeTLSGateway(t, dir)
	out, stderr, code := runCLI(t, "render", "-f", dir, "--dataplane", "default/gw")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "BEGIN CERTIFICATE")
	assert.NotContains(t, out, "PRIVATE KEY")
	assert.Contains(t, out, "[redacted]")
}

func TestExplainJSONContract(t *testing.T) {
	out, stderr, code := runCLI(t, "explain", "-f", example, "--dataplane", "default/gateway-instance-1",
		"--port", "8080", "--host", "foo.example.com:8080", "--path", "/api", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Listener    string `json:"listener"`
		FilterChain string `json:"filterChain"`
		VirtualHost string `json:"virtualHost"`
		Route       struct {
			Name  string `json:"name"`
			Rule  *int   `json:"rule"`
			Match *int   `json:"match"`
		} `json:"route"`
		Action struct {
			Forward []struct {
				Cluster     string            `json:"cluster"`
				Weight      uint32            `json:"weight"`
				Destination map[string]string `json:"destination"`
			} `json:"forward"`
		} `json:"action"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, "edge-gateway:HTTP:8080", res.Listener)
	assert.Equal(t, "edge-gateway:HTTP:8080:*", res.FilterChain)
	assert.Equal(t, "foo.example.com", res.VirtualHost)
	assert.Equal(t, "api-route", res.Route.Name)
	require.NotNil(t, res.Route.Rule)
	require.NotNil(t, res.Route.Match)
	require.Len(t, res.Action.Forward, 1)
	assert.Equal(t, "api", res.Action.Forward[0].Cluster)
	assert.Equal(t, map[string]string{"kuma.io/service": "api"}, res.Action.Forward[0].Destination)
}

func TestUserErrorsExitOne(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad dataplane", []string{"render", "-f", example, "--dataplane", "gateway-instance-1"}, "want MESH/NAME"},
		{"unknown dataplane", []string{"render", "-f", example, "--dataplane", "default/nope"}, "dataplane default/nope not found"},
		{"missing file", []string{"validate", "-f", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{"no listener", []string{"explain", "-f", example, "--dataplane", "default/gateway-instance-1", "--port", "9999", "--host", "x"}, "9999"},
		{"bad output", []string{"render", "-f", example, "--dataplane", "default/gateway-instance-1", "-o", "xml"}, "xml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, c.args...)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, c.want)
		})
	}
}

func TestValidateWarnsAboutDroppedParts(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gw.yaml"), []byte(`
type: Dataplane
mesh: default
name: gw
networking:
  address: 10.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}
---
type: MeshGateway
mesh: default
name: gw
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
  - {port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {mode: TERMINATE, certificates: [{secret: missing}]}}
  - {port: 8080, protocol: HTTP}
`), 0o644))
	out, stderr, code := runCLI(t, "validate", "-f", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ok\n", out)
	// Located like a validation error: the file and the line of the certificate reference.
	assert.Contains(t, stderr, `warning: `+filepath.Join(dir, "gw.yaml")+`:15: MeshGateway default/gw: conf.listeners[0].tls.certificates[0]: secret "missing" not found in mesh "default"`)
}

// Two meshes claiming one cross-mesh hostname: validate names the later claim, with file and
// line, and fails; the control plane would publish only the first.
func TestValidateRejectsCrossMeshConflicts(t *testing.T) {
	dir := t.TempDir()
	gw := func(mesh, created string) string {
		return `
type: Mesh
name: ` + mesh + `
mtls: {enabledBackend: ca, backends: [{name: ca, type: builtin}]}
---
type: MeshGateway
mesh: ` + mesh + `
name: edge
creationTime: ` + created + `
selectors: [{match: {kuma.io/service: edge}}]
conf:
  listeners:
  - {port: 8080, protocol: HTTP, crossMesh: true, hostname: api.mesh}
`
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(gw("a", "2026-01-01T00:00:00Z")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(gw("b", "2026-02-01T00:00:00Z")), 0o644))
	_, stderr, code := runCLI(t, "validate", "-f", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "b.yaml:")
	assert.Contains(t, stderr, "MeshGateway b/edge: conf.listeners[0]")
	assert.Contains(t, stderr, "MeshGateway a/edge")
	assert.NotContains(t, stderr, "MeshGateway a/edge: conf")
}
