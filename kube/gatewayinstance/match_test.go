package gatewayinstance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func gateway(name, mesh string, match map[string]string, ports ...uint32) *api.MeshGateway {
	gw := &api.MeshGateway{Meta: api.Meta{Kind: api.KindMeshGateway, Name: name, Mesh: mesh}}
	gw.Spec.Selectors = []api.Selector{{Match: match}}
	gw.Spec.Conf = &api.MeshGatewayConf{}
	for _, p := range ports {
		gw.Spec.Conf.Listeners = append(gw.Spec.Conf.Listeners, api.Listener{Port: p, Protocol: api.ProtocolHTTP})
	}
	return gw
}

func TestMatchGateway(t *testing.T) {
	tags := map[string]string{"kuma.io/service": "edge", "zone": "a"}
	wild := gateway("b-wild", "default", map[string]string{"kuma.io/service": "*"})
	exact := gateway("z-exact", "default", map[string]string{"kuma.io/service": "edge"})
	exact2 := gateway("a-exact", "default", map[string]string{"kuma.io/service": "edge"})
	two := gateway("y-two", "default", map[string]string{"kuma.io/service": "edge", "zone": "a"})
	other := gateway("other", "default", map[string]string{"kuma.io/service": "other"})
	otherMesh := gateway("a-mesh", "m2", map[string]string{"kuma.io/service": "edge", "zone": "a"})
	for _, tc := range []struct {
		name string
		gws  []*api.MeshGateway
		want *api.MeshGateway
	}{
		{"none", nil, nil},
		{"no selector matches", []*api.MeshGateway{other}, nil},
		{"other mesh only", []*api.MeshGateway{otherMesh}, nil},
		{"wildcard", []*api.MeshGateway{wild, other}, wild},
		{"exact beats wildcard", []*api.MeshGateway{wild, exact}, exact},
		{"more tags beat fewer", []*api.MeshGateway{exact, two, wild, otherMesh}, two},
		{"tie: lowest name", []*api.MeshGateway{exact, exact2}, exact2},
		{"tie in other order", []*api.MeshGateway{exact2, exact}, exact2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, matchGateway(tc.gws, "default", tags))
		})
	}
}

func TestListenerPorts(t *testing.T) {
	gw := gateway("g", "default", nil, 9090, 8080, 8080)
	gw.Spec.Conf.Listeners = append(gw.Spec.Conf.Listeners,
		api.Listener{Port: 443, Protocol: api.ProtocolHTTPS}, api.Listener{Port: 9000, Protocol: api.ProtocolTCP})
	assert.Equal(t, []listenerPort{
		{"https-443", 443}, {"http-8080", 8080}, {"tcp-9000", 9000}, {"http-9090", 9090},
	}, listenerPorts(gw))
	assert.Empty(t, listenerPorts(&api.MeshGateway{}))
}

func TestDecodeInstance(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kuma.io/v1alpha1", "kind": "MeshGatewayInstance",
		"metadata": map[string]any{"name": "gw", "namespace": "ns", "labels": map[string]any{"kuma.io/mesh": "m1"},
			"uid": "123", "resourceVersion": "7", "managedFields": []any{map[string]any{"manager": "kubectl"}}},
		"spec":   map[string]any{"replicas": int64(2), "tags": map[string]any{"zone": "a"}},
		"status": map[string]any{"conditions": []any{}},
	}}
	inst, errs := decodeInstance(u)
	require.Empty(t, errs)
	assert.Equal(t, "m1", inst.Mesh)
	assert.Equal(t, map[string]string{"zone": "a", "kuma.io/service": "gw_ns_svc"}, inst.Tags, "Kuma 2.7's default service")
	assert.Equal(t, int32(2), inst.Spec.ReplicasOrDefault())
	_, has := u.Object["spec"].(map[string]any)["tags"].(map[string]any)["kuma.io/service"]
	assert.False(t, has, "the cached object is not modified")

	u.Object["metadata"].(map[string]any)["labels"] = nil
	inst, errs = decodeInstance(u)
	require.Empty(t, errs)
	assert.Equal(t, "default", inst.Mesh)

	u.Object["spec"] = map[string]any{"replicas": int64(0), "bogus": true}
	_, errs = decodeInstance(u)
	assert.Contains(t, errorsMessage(errs), `unknown field "bogus"`)
}

func TestResourcesFor(t *testing.T) {
	r, err := resourcesFor(&api.GatewayInstanceResources{
		Limits:   map[string]api.Quantity{"cpu": int64(1), "memory": "256Mi"},
		Requests: map[string]api.Quantity{"cpu": 0.5},
	})
	require.NoError(t, err)
	assert.True(t, r.Limits.Cpu().Equal(resource.MustParse("1")))
	assert.True(t, r.Limits.Memory().Equal(resource.MustParse("256Mi")))
	assert.True(t, r.Requests.Cpu().Equal(resource.MustParse("500m")))
	assert.Equal(t, corev1.ResourceRequirements{}, must(resourcesFor(nil)))
	_, err = resourcesFor(&api.GatewayInstanceResources{Limits: map[string]api.Quantity{"cpu": "lots"}})
	assert.ErrorContains(t, err, "resources.limits.cpu")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
