package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Kuma's REST collection names, including policy kinds meshgate may register later.
func TestPlural(t *testing.T) {
	for kind, want := range map[api.Kind]string{
		"Mesh": "meshes", "Dataplane": "dataplanes", "MeshGateway": "meshgateways",
		"MeshGatewayRoute": "meshgatewayroutes", "Secret": "secrets",
		"TrafficPermission": "trafficpermissions", "Retry": "retries", "MeshRetry": "meshretries",
		"HealthCheck": "healthchecks", "ProxyTemplate": "proxytemplates", "Timeout": "timeouts",
		"FaultInjection": "faultinjections", "ZoneEgress": "zoneegresses", "Gateway": "gateways",
	} {
		assert.Equal(t, want, Plural(kind), kind)
	}
}

func TestParseKind(t *testing.T) {
	for _, name := range []string{"meshgateways", "meshgateway", "MeshGateway", "MESHGATEWAYS"} {
		info, ok := ParseKind(name)
		require.True(t, ok, name)
		assert.Equal(t, api.KindMeshGateway, info.Kind)
	}
	info, ok := ParseKind("meshes")
	require.True(t, ok)
	assert.True(t, info.Global)
	_, ok = ParseKind("widgets")
	assert.False(t, ok)
	_, ok = KindForPlural("meshgateway")
	assert.False(t, ok, "URLs take the plural only")
}

func TestPaths(t *testing.T) {
	mesh, _ := api.LookupKind(api.KindMesh)
	dp, _ := api.LookupKind(api.KindDataplane)
	assert.Equal(t, "/meshes", CollectionPath(mesh, "x"))
	assert.Equal(t, "/meshes/a%2Fb", ResourcePath(mesh, "", "a/b"))
	assert.Equal(t, "/meshes/m/dataplanes", CollectionPath(dp, "m"))
	assert.Equal(t, "/dataplanes", CollectionPath(dp, ""))
	assert.Equal(t, "/meshes/m/dataplanes/d", ResourcePath(dp, "m", "d"))
	assert.Equal(t, "/meshes/m/dataplanes/d/xds", DataplanePath("m", "d", "xds"))
}

func TestJSONToYAML(t *testing.T) {
	y, err := JSONToYAML([]byte(`{"type":"Mesh","name":"m","port":"8080","on":"true","n":8080,"empty":[],"obj":{},"list":[{"a":1}],"pem":"a\nb"}`))
	require.NoError(t, err)
	assert.Equal(t, `type: Mesh
name: m
port: "8080"
on: "true"
n: 8080
empty: []
obj: {}
list:
  - a: 1
pem: |-
  a
  b
`, string(y))
	_, err = JSONToYAML([]byte(`{"a":`))
	assert.Error(t, err)
}
