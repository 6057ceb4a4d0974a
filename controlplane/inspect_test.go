package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// policiesYAML: a gateway routing to app, with a Retry that wins over a wildcard one, a
// Timeout and a CircuitBreaker for app, and a TrafficRoute the gateway ignores.
const policiesYAML = `
type: Mesh
name: default
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: gw}}]
conf: {listeners: [{port: 8080, protocol: HTTP}]}
---
type: Dataplane
mesh: default
name: app-1
networking:
  address: 127.0.0.2
  inbound: [{port: 9000, tags: {kuma.io/service: app, kuma.io/protocol: http}}]
---
type: Retry
mesh: default
name: r0
sources: [{match: {kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: '*'}}]
conf: {http: {numRetries: 1}}
---
type: Retry
mesh: default
name: r1
sources: [{match: {kuma.io/service: gw}}]
destinations: [{match: {kuma.io/service: app}}]
conf: {http: {numRetries: 20, perTryTimeout: 1s}}
---
type: Timeout
mesh: default
name: t1
sources: [{match: {kuma.io/service: gw}}]
destinations: [{match: {kuma.io/service: app}}]
conf: {connectTimeout: 2s, http: {requestTimeout: 5s}}
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

// Inspect reports, per route and cluster the dataplane is served, which policy of each kind
// applied, which lost and why, and the settings they became; without policies it says nothing.
func TestInspectPolicies(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gw.yaml"), []byte(gatewayYAML), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "route.yaml"), []byte(routeYAML), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "policies.yaml"), []byte(policiesYAML), 0o644))
	cfg := DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir, cfg.ResourcesDir, cfg.Logger = t.TempDir(), dir, quietLogger()
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	<-cp.Ready()

	v, err := cp.inspectDataplane(ctx, "default", "gw")
	require.NoError(t, err)
	in := v.(Inspection)
	require.NotNil(t, in.Policies, "the gateway's route and cluster record decisions")
	require.Len(t, in.Policies.Routes, 1)
	rp := in.Policies.Routes[0]
	assert.Equal(t, "r", rp.Route.Name)
	assert.Equal(t, "5s", rp.Timeout)
	require.NotNil(t, rp.Retry)
	assert.Equal(t, uint32(20), rp.Retry.NumRetries)
	kinds := map[string]string{}
	for _, p := range rp.Policies {
		kinds[p.Kind] = p.Applied
		if p.Kind == "Retry" {
			require.Len(t, p.Lost, 1)
			assert.Equal(t, "r0", p.Lost[0].Name)
			assert.Equal(t, "a wildcard destination", p.Lost[0].Reason)
		}
	}
	assert.Equal(t, map[string]string{"Timeout": "t1", "Retry": "r1", "TrafficRoute": ""}, kinds)
	require.Len(t, in.Policies.Clusters, 1)
	c := in.Policies.Clusters[0]
	assert.Equal(t, "app", c.Cluster)
	assert.Equal(t, "2s", c.ConnectTimeout)
	require.NotNil(t, c.CircuitBreaker)
	assert.Equal(t, uint32(10), *c.CircuitBreaker.MaxConnections)

	// The API serves the same document.
	resp, err := http.Get("http://" + cp.Addrs().API + "/meshes/default/dataplanes/gw/inspect")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var doc struct {
		Policies struct {
			Routes []struct {
				EnvoyRoute string `json:"envoyRoute"`
				Policies   []struct {
					Kind    string `json:"kind"`
					Applied string `json:"applied"`
				} `json:"policies"`
			} `json:"routes"`
			Clusters []struct {
				Cluster        string `json:"cluster"`
				ConnectTimeout string `json:"connectTimeout"`
			} `json:"clusters"`
		} `json:"policies"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Len(t, doc.Policies.Routes, 1)
	assert.Equal(t, "r/rules[0]/matches[0]", doc.Policies.Routes[0].EnvoyRoute)
	assert.Equal(t, "Timeout", doc.Policies.Routes[0].Policies[0].Kind)
	assert.Equal(t, "2s", doc.Policies.Clusters[0].ConnectTimeout)

	// Without policies the document has no policies field at all.
	require.NoError(t, os.Remove(filepath.Join(dir, "policies.yaml")))
	require.Eventually(t, func() bool {
		v, err := cp.inspectDataplane(ctx, "default", "gw")
		return err == nil && v.(Inspection).Policies == nil
	}, 10*time.Second, 50*time.Millisecond)
	b, err := json.Marshal(mustInspect(t, cp))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "policies")
}

func mustInspect(t *testing.T, cp *ControlPlane) Inspection {
	t.Helper()
	v, err := cp.inspectDataplane(context.Background(), "default", "gw")
	require.NoError(t, err)
	return v.(Inspection)
}
