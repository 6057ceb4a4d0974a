package v1alpha1

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKubernetesForm(t *testing.T) {
	runErrCases(t, []errCase{
		{"unknown kind", "apiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\nmetadata: {name: gw}\n", []string{
			`test.yaml:2: kind: unknown kind "MeshHTTPRoute" (known: CircuitBreaker, Dataplane, ExternalService, FaultInjection, HealthCheck, Mesh, MeshGateway, MeshGatewayInstance, MeshGatewayRoute, ProxyTemplate, RateLimit, Retry, Secret, Timeout, TrafficLog, TrafficPermission, TrafficRoute, VirtualOutbound, ZoneIngress)`}},
		{"missing kind", "apiVersion: kuma.io/v1alpha1\nmetadata: {name: gw}\n", []string{
			`test.yaml:1: kind: cannot be empty`}},
		{"missing apiVersion", "kind: Mesh\nmetadata: {name: m}\n", []string{
			`test.yaml:1: apiVersion: cannot be empty`}},
		{"wrong apiVersion", "apiVersion: kuma.io/v1\nkind: Mesh\nmetadata: {name: m}\n", []string{
			`test.yaml:1: Mesh m: apiVersion: must be "kuma.io/v1alpha1" for kind Mesh`}},
		{"missing name", "apiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata: {namespace: x}\n", []string{
			`test.yaml:1: metadata.name: cannot be empty`}},
		{"unknown top-level field", "apiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nstatus: {}\n", []string{
			`test.yaml:4: Mesh m: unknown field "status"`}},
		{"unknown metadata field", "apiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata: {name: m, nam: x}\n", []string{
			`test.yaml:3: Mesh m: metadata: unknown field "nam"`}},
		{"unknown spec field", "apiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nspec:\n  mtl: {}\n", []string{
			`test.yaml:5: Mesh m: unknown field "mtl"`}},
		{"spec not a mapping", "apiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nspec: [a]\n", []string{
			`test.yaml:4: Mesh m: spec: must be a mapping`}},
		{"mesh and label disagree", "apiVersion: kuma.io/v1alpha1\nkind: MeshGateway\nmesh: a\nmetadata:\n  name: gw\n  labels: {kuma.io/mesh: b}\nspec:\n  selectors: [{match: {kuma.io/service: gw}}]\n  conf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			`test.yaml:3: MeshGateway a/gw: mesh: does not match the kuma.io/mesh label (b)`}},
		{"secret of another type", "apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata: {name: s}\ndata: {value: aGk=}\n", []string{
			`test.yaml:3: Secret default/s: type: must be "system.kuma.io/secret": meshgate reads only Kuma mesh secrets`}},
		{"secret with other keys", "apiVersion: v1\nkind: Secret\ntype: system.kuma.io/secret\nmetadata: {name: s}\ndata: {value: aGk=, key: aGk=}\n", []string{
			`test.yaml:5: Secret default/s: data: unknown field "key"`}},
		{"secret that is not base64", "apiVersion: v1\nkind: Secret\ntype: system.kuma.io/secret\nmetadata: {name: s}\ndata:\n  value: '!!'\n", []string{
			`test.yaml:6: Secret default/s: data: must be valid base64`}},
	})

	dp := decodeOne(t, `
apiVersion: kuma.io/v1alpha1
kind: Dataplane
mesh: default
metadata:
  name: web-1
  namespace: kuma-demo
  creationTimestamp: "2024-05-01T10:00:00Z"
  labels: {app: web}
  annotations: {kuma.io/gateway: builtin}
  uid: 0b5a
  resourceVersion: "42"
  generation: 3
  managedFields: [{manager: kubectl, fieldsV1: {f:spec: {}}}]
spec:
  networking:
    address: 10.0.0.7
    gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}
`).(*Dataplane)
	assert.Equal(t, "web-1.kuma-demo", dp.Name, "namespaced kinds get Kuma's <name>.<namespace>")
	assert.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), dp.CreationTime)
	assert.Equal(t, map[string]string{"app": "web"}, dp.Labels)
	assert.Equal(t, 5, dp.Source.Fields["name"])
	assert.Equal(t, 16, dp.Source.Fields["networking.address"])

	secret := decodeOne(t, `
apiVersion: v1
kind: Secret
type: system.kuma.io/secret
metadata: {name: plain, labels: {kuma.io/mesh: payments}}
stringData:
  value: hello
`).(*Secret)
	assert.Equal(t, "Secret payments/plain", secret.DisplayName())
	b, err := secret.Spec.Bytes()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
}

func TestKubernetesList(t *testing.T) {
	objs, errs := Decode("list.yaml", []byte(doc(`
apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: kuma.io/v1alpha1
  kind: Mesh
  metadata: {name: one}
- apiVersion: kuma.io/v1alpha1
  kind: Mesh
  metadata: {name: two}
  spec: {mtls: {enabledBackend: nope}}
- apiVersion: kuma.io/v1alpha1
  kind: Mesh
  metadata: {name: three}
`)))
	require.Len(t, objs, 2)
	assert.Equal(t, "one", objs[0].GetMeta().Name)
	assert.Equal(t, 5, objs[0].GetMeta().Source.Line)
	assert.Equal(t, "three", objs[1].GetMeta().Name)
	assert.Equal(t, []string{`list.yaml:11: Mesh two: mtls.enabledBackend: has to be set to one of the backends in the mesh`}, errStrings(errs))
}
