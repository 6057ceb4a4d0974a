package build

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

// Between sidecars every HTTP service is HTTP/2 (Kuma's outbound clusters); the application
// behind the destination's inbound is still spoken to as declared; TCP stays TCP.
func TestSidecarOutboundHTTP2(t *testing.T) {
	m := sidecarModel(t, `
type: Mesh
name: default
---
type: Dataplane
name: web
mesh: default
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
  outbound:
    - {port: 9001, tags: {kuma.io/service: backend}}
    - {port: 9002, tags: {kuma.io/service: db}}
---
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.2
  inbound: [{port: 8080, tags: {kuma.io/service: backend, kuma.io/protocol: http}}]
---
type: Dataplane
name: db
mesh: default
networking:
  address: 10.0.0.3
  inbound: [{port: 5432, tags: {kuma.io/service: db, kuma.io/protocol: tcp}}]
`)
	p, err := Proxy(Request{Model: m, Mesh: "default", Name: "web", Options: DefaultOptions()})
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	got := map[string][2]any{}
	for _, c := range p.Clusters {
		got[c.Name] = [2]any{c.Protocol, c.DefaultHTTP2Windows}
	}
	assert.Equal(t, [2]any{ir.ClusterHTTP2, true}, got["backend"], "an http service between sidecars")
	assert.Equal(t, [2]any{ir.ClusterTCP, false}, got["db"])
	assert.Equal(t, [2]any{ir.ClusterHTTP, false}, got["localhost:8080"], "the application stays HTTP/1")
}
