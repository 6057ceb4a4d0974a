package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/controlplane"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

func TestInspect(t *testing.T) {
	startAPI(t)
	_, stderr, code := runCLI(t, "apply", "-f", example)
	require.Equal(t, 0, code, stderr)

	out, stderr, code := runCLI(t, "inspect", "dataplane", "default/gateway-instance-1")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "dataplane: default/gateway-instance-1\nstream:\n  connected: false\n", out)
	out, _, code = runCLI(t, "inspect", "dataplanes", "default/gateway-instance-1", "-o", "json")
	require.Equal(t, 0, code)
	assert.JSONEq(t, `{"dataplane":"default/gateway-instance-1","stream":{"connected":false}}`, out)

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "dataplane", "default/nope"}, "error: Dataplane default/nope not found"},
		{[]string{"inspect", "dataplane", "nope"}, "want MESH/NAME"},
		{[]string{"inspect", "meshgateway", "default/edge-gateway"}, "only dataplanes can be inspected"},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, c.args...)
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, c.want)
	}
}

// policyExample is a gateway with connection policies: a Retry that beats a wildcard one, a
// Timeout, a RateLimit, a CircuitBreaker and a TrafficRoute the gateway ignores.
const policyExample = `
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: gw
networking:
  address: 192.168.1.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 8080, protocol: HTTP}, {port: 9000, protocol: TCP}]}
---
type: MeshGatewayRoute
mesh: default
name: web
selectors: [{match: {kuma.io/service: gw}}]
conf: {http: {rules: [{matches: [{path: {match: PREFIX, value: /}}], backends: [{destination: {kuma.io/service: app}}]}]}}
---
type: MeshGatewayRoute
mesh: default
name: db
selectors: [{match: {kuma.io/service: gw}}]
conf: {tcp: {rules: [{backends: [{destination: {kuma.io/service: db}}]}]}}
---
type: Dataplane
mesh: default
name: app-1
networking:
  address: 192.168.1.2
  inbound: [{port: 9000, tags: {kuma.io/service: app, kuma.io/protocol: http}}]
---
type: Dataplane
mesh: default
name: db-1
networking:
  address: 192.168.1.3
  inbound: [{port: 5432, tags: {kuma.io/service: db, kuma.io/protocol: tcp}}]
---
type: Retry
mesh: default
name: r0
sources: [{match: {kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: '*'}}]
conf: {http: {numRetries: 1}, tcp: {maxConnectAttempts: 2}}
---
type: Retry
mesh: default
name: r1
sources: [{match: {kuma.io/service: gw}}]
destinations: [{match: {kuma.io/service: app}}]
conf: {http: {numRetries: 20, perTryTimeout: 1s, retryOn: [all_5xx, reset]}}
---
type: Timeout
mesh: default
name: t1
sources: [{match: {kuma.io/service: gw}}]
destinations: [{match: {kuma.io/service: app}}]
conf: {connectTimeout: 2s, http: {requestTimeout: 5s}}
---
type: RateLimit
mesh: default
name: rl
sources: [{match: {kuma.io/service: gw}}]
destinations: [{match: {kuma.io/service: app}}]
conf: {http: {requests: 100, interval: 1s}}
---
type: CircuitBreaker
mesh: default
name: cb
sources: [{match: {kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: app}}]
conf: {thresholds: {maxConnections: 10}}
---
type: TrafficRoute
mesh: default
name: tr-1
sources: [{match: {kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: '*'}}]
conf: {destination: {kuma.io/service: app}}
`

// startPolicyAPI serves the API over the embedded store with an inspect view built, as the
// control plane builds it, from the resources the dataplane would be served.
func startPolicyAPI(t *testing.T, file string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meshgate.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	inspect := func(_ context.Context, mesh, name string) (any, error) {
		m, err := render.Load([]string{file})
		if err != nil {
			return nil, err
		}
		out, err := render.Dataplane(m, mesh, name, build.DefaultOptions())
		if err != nil {
			return nil, err
		}
		return controlplane.Inspection{
			DataplaneState: controlplane.DataplaneState{Mesh: mesh, Name: name, Node: mesh + "." + name, Revision: 7},
			Policies:       explain.Policies(out.Resources),
		}, nil
	}
	srv := httptest.NewServer(rest.NewHandler(rest.Options{Store: st, AdminToken: testToken, Inspect: inspect}))
	t.Cleanup(srv.Close)
	t.Setenv(envAPIAddress, srv.URL)
	t.Setenv(envAdminToken, testToken)
}

func TestInspectPolicies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "policies.yaml", policyExample)
	file := filepath.Join(dir, "policies.yaml")
	startPolicyAPI(t, file)
	_, stderr, code := runCLI(t, "apply", "-f", file)
	require.Equal(t, 0, code, stderr)

	out, stderr, code := runCLI(t, "inspect", "dataplane", "default/gw", "-o", "text")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, `dataplane  default/gw  (revision 7)
xds        not connected

route               default/web rules[0] matches[0]  (Envoy route web/rules[0]/matches[0], virtual host * of edge:HTTP:8080:*)
  timeout           5s
  retry             20 on 5xx,reset, 1s per try
  rate limit        100 requests / 1s  status 429
  policy            Timeout t1  (applied: one service: the oldest policy naming it)
  policy            Retry r1  (applied: one service: the oldest policy naming it; lost: r0 — a wildcard destination)
  policy            RateLimit rl  (applied: one service: the oldest policy naming it)
  ignored           TrafficRoute tr-1 selects this gateway and is ignored: a gateway routes by MeshGatewayRoute
tcp proxy           edge:TCP:9000:*  (listener edge:TCP:9000)
  connect attempts  2
  policy            Retry r0  (applied: the oldest matching policy)
  ignored           TrafficRoute tr-1 selects this gateway and is ignored: a gateway routes by MeshGatewayRoute
cluster             app
  connect timeout   2s
  circuit breaker   max_connections 10
  policy            CircuitBreaker cb  (applied: best match for app)
  policy            Timeout t1  (applied: best match for app)
`, out)

	out, stderr, code = runCLI(t, "inspect", "dataplane", "default/gw", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var doc struct {
		Policies explain.PolicyReport `json:"policies"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Policies.Routes, 1)
	assert.Equal(t, "r1", doc.Policies.Routes[0].Policies[1].Applied)
	assert.Equal(t, []explain.LostPolicy{{Name: "r0", Reason: "a wildcard destination"}}, doc.Policies.Routes[0].Policies[1].Lost)
	require.Len(t, doc.Policies.Clusters, 1)
	assert.Equal(t, "2s", doc.Policies.Clusters[0].ConnectTimeout)

	// The default YAML carries the same document.
	out, stderr, code = runCLI(t, "inspect", "dataplane", "default/gw")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "policies:\n  routes:\n")
}

// Without recorded decisions, the text form says so; its header carries what the document has.
func TestInspectText(t *testing.T) {
	startAPI(t)
	_, stderr, code := runCLI(t, "apply", "-f", example)
	require.Equal(t, 0, code, stderr)
	out, stderr, code := runCLI(t, "inspect", "dataplane", "default/gateway-instance-1", "-o", "text")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "dataplane  default/gateway-instance-1\nxds        not connected\npolicies   none recorded\n", out)

	var b strings.Builder
	require.NoError(t, printInspection(&b, []byte(`{"revision": 3, "error": "no identity", "diagnostics": [{"Resource": "MeshGatewayRoute default/r", "Field": "conf.http", "Message": "dropped"}],
	  "xds": {"node": "default.gw", "streams": 1, "types": [{"typeUrl": "type.googleapis.com/envoy.config.listener.v3.Listener", "rejected": true, "lastNack": {"version": "4", "message": "bad listener"}}]}}`), "default/gw"))
	assert.Equal(t, `dataplane   default/gw  (revision 3)
error       no identity
diagnostic  MeshGatewayRoute default/r: conf.http: dropped
xds         1 stream
rejected    Listener version 4: bad listener
policies    none recorded
`, b.String())
	_, _, code = runCLI(t, "inspect", "dataplane", "default/gateway-instance-1", "-o", "table")
	assert.Equal(t, 1, code)
}
