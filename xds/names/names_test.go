package names

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func TestNames(t *testing.T) {
	assert.Equal(t, "default.gw-1", Node("default", "gw-1"))
	assert.Equal(t, "edge:HTTPS:8443", Listener("edge", "HTTPS", 8443))
	assert.Equal(t, "edge:HTTP:8080:*", RouteConfig("edge:HTTP:8080", ""))
	assert.Equal(t, "edge:HTTPS:8443:foo.example.com", RouteConfig("edge:HTTPS:8443", "foo.example.com"))
	assert.Equal(t, "api", Cluster(map[string]string{api.ServiceTag: "api"}))
	assert.Equal(t, "api{version=v1,zone=east}", Cluster(map[string]string{api.ServiceTag: "api", "zone": "east", "version": "v1"}))
	assert.Equal(t, "api{mesh=default,version=v1}", UpstreamSNI("default", map[string]string{api.ServiceTag: "api", "version": "v1"}))
	assert.Equal(t, "&kuma.io/service=gw&port=http&", TagsHeaderValue(map[string]string{api.ServiceTag: "gw", "port": "http"}))
	assert.Equal(t, "", TagsHeaderValue(nil))
	assert.Equal(t, "cert.rsa:secret:foo", ServerCertSecret("rsa", "secret", "foo"))
	assert.Equal(t, "identity_cert:secret:default", IdentitySecret("default"))
	assert.Equal(t, "mesh_ca:secret:default", MeshCASecret("default"))
	assert.Equal(t, "r/rules[1]/matches[2]", Route("r", 1, 2))
	assert.Equal(t, "r/rules[1]/matches[2]/exact", RouteExact("r", 1, 2))
	assert.Equal(t, "inbound:backend:8081", InboundRouteConfigOnPort("backend", 8081))
	assert.Equal(t, "inbound:10.0.0.1:8080:plaintext", Plaintext(InboundListener("10.0.0.1", 8080)))
	assert.Equal(t, "spiffe://shop/", MeshIDPrefix("shop"))
	assert.Equal(t, "api[default]", ClusterVariant("api", nil))
	assert.Equal(t, "inbound:10.0.0.1:8080.", RBACStatPrefix(InboundListener("10.0.0.1", 8080)))
	assert.Equal(t, "api[cb-1,hc-2]", ClusterVariant("api", []string{"cb-1", "hc-2"}))
}

func TestServiceID(t *testing.T) {
	id, err := ServiceID("default", "demo-app_kuma-demo_svc_5000")
	require.NoError(t, err)
	assert.Equal(t, "spiffe://default/demo-app_kuma-demo_svc_5000", id.String())
	assert.True(t, strings.HasPrefix(id.String(), MeshIDPrefix("default")), "a service's ID is under its mesh's prefix")
	_, err = ServiceID("Bad Mesh", "x")
	assert.ErrorContains(t, err, "trust domain")
	_, err = ServiceID("default", "a:b")
	assert.ErrorContains(t, err, "SPIFFE path")
}
