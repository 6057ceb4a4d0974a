package v1alpha1

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// instance builds a MeshGatewayInstance manifest whose spec body starts on line 6.
func instance(spec string) string {
	return "apiVersion: kuma.io/v1alpha1\nkind: MeshGatewayInstance\nmetadata: {name: gw, namespace: ns}\nspec:\n  tags: {kuma.io/service: gw}\n" + doc(spec)
}

const mgi = "test.yaml:%d: MeshGatewayInstance default/gw.ns: "

func TestMeshGatewayInstanceSeedDecodes(t *testing.T) {
	data, err := os.ReadFile("testdata/kubernetes/meshgatewayinstance-custom.yaml")
	require.NoError(t, err)
	objs, errs := Decode("seed.yaml", data)
	require.Empty(t, errStrings(errs))
	require.Len(t, objs, 1)
	g, ok := objs[0].(*MeshGatewayInstance)
	require.True(t, ok, "decoded %T", objs[0])
	assert.Equal(t, "edge-gateway.default", g.Name, "namespaced kinds get Kuma's <name>.<namespace>")
	assert.Equal(t, DefaultMesh, g.Mesh)
	assert.Equal(t, int32(1), g.Spec.ReplicasOrDefault())
	assert.Equal(t, ServiceTypeLoadBalancer, g.Spec.ServiceTypeOrDefault())
	assert.Equal(t, map[string]string{ServiceTag: "edge-gateway"}, g.Spec.Tags)
	assert.Equal(t, map[string]Quantity{"cpu": int64(1), "memory": "256Mi"}, g.Spec.Resources.Limits)
	assert.Equal(t, "true", g.Spec.ServiceTemplate.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-internal"])
	assert.Equal(t, "10.0.0.10", g.Spec.ServiceTemplate.Spec.LoadBalancerIP)
	assert.Equal(t, "edge-gateway", g.Spec.PodTemplate.Spec.ServiceAccountName)
	assert.Equal(t, int64(1000), *g.Spec.PodTemplate.Spec.SecurityContext.FSGroup)
	assert.True(t, *g.Spec.PodTemplate.Spec.Container.SecurityContext.ReadOnlyRootFilesystem)
}

func TestMeshGatewayInstanceValidation(t *testing.T) {
	e := func(line int, rest string) string { return sprintf(mgi, line) + rest }
	runErrCases(t, []errCase{
		{"defaults", instance(""), nil},
		{"service types", instance("  serviceType: NodePort\n"), nil},
		{"mesh label", "apiVersion: kuma.io/v1alpha1\nkind: MeshGatewayInstance\nmetadata: {name: gw, namespace: ns, labels: {kuma.io/mesh: other}}\nspec: {tags: {kuma.io/service: gw}}\n", nil},
		{"top-level mesh", "apiVersion: kuma.io/v1alpha1\nkind: MeshGatewayInstance\nmesh: default\nmetadata: {name: gw, namespace: ns}\nspec: {tags: {kuma.io/service: gw}}\n", []string{
			e(3, `mesh: MeshGatewayInstance has no top-level mesh: set the kuma.io/mesh label`)}},
		{"zero replicas", instance("  replicas: 0\n"), []string{e(6, "replicas: must be at least 1")}},
		{"bad service type", instance("  serviceType: ExternalName\n"), []string{
			e(6, `serviceType: invalid value "ExternalName": must be one of LoadBalancer, ClusterIP, NodePort`)}},
		{"no service tag", "apiVersion: kuma.io/v1alpha1\nkind: MeshGatewayInstance\nmetadata: {name: gw, namespace: ns}\nspec:\n  replicas: 2\n", []string{
			e(1, `tags: mandatory tag "kuma.io/service" is missing`)}},
		{"quantities", instance("  resources:\n    limits: {cpu: 0.5, memory: lots}\n    requests: {cpu: [1]}\n"), []string{
			e(7, `resources.limits["memory"]: invalid quantity "lots"`),
			e(8, `resources.requests["cpu"]: must be a number or a quantity string such as 128Mi`)}},
		{"load balancer ip", instance("  serviceTemplate: {spec: {loadBalancerIP: not-an-ip}}\n"), []string{
			e(6, "serviceTemplate.spec.loadBalancerIP: must be an IP address")}},
		{"pod template", instance("  podTemplate:\n    spec:\n      serviceAccountName: Bad_Name\n      securityContext: {fsGroup: -1}\n"), []string{
			e(8, "podTemplate.spec.serviceAccountName: "+nameCharsetMsg),
			e(9, "podTemplate.spec.securityContext.fsGroup: must not be negative")}},
		{"unknown field", instance("  podTemplate: {spec: {hostNetwork: true}}\n"), []string{
			e(6, `podTemplate.spec: unknown field "hostNetwork"`)}},
	})
}
