package gatewayinstance

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshgate/meshgate/kube/meta"
)

// seedInstance is the seed's MeshGatewayInstance with its Customization section's service
// annotations and two replicas; service is a random kuma.io/service so that MeshGateways of
// tests running in parallel (cluster-scoped) never select it.
func seedInstance(service string) string {
	return fmt.Sprintf(`
apiVersion: kuma.io/v1alpha1
kind: MeshGatewayInstance
metadata:
  name: edge-gateway
spec:
  replicas: 2
  serviceType: LoadBalancer
  tags:
    kuma.io/service: %s
  serviceTemplate:
    metadata:
      annotations:
        service.beta.kubernetes.io/aws-load-balancer-internal: "true"
    spec:
      loadBalancerIP: 10.0.0.10
`, service)
}

// seedGateway is the seed's MeshGateway (Kubernetes form), named and selecting service.
func seedGateway(name, service, extraListeners string) string {
	return fmt.Sprintf(`
apiVersion: kuma.io/v1alpha1
kind: MeshGateway
mesh: default
metadata:
  name: %s
spec:
  selectors:
  - match:
      kuma.io/service: %s
  conf:
    listeners:
      - port: 8080
        protocol: HTTP
        hostname: foo.example.com
        tags:
          port: http/8080
%s`, name, service, extraListeners)
}

func TestSeedInstanceBeforeAndAfterMeshGateway(t *testing.T) {
	e := newEnv(t)
	suffix := randomSuffix()
	service := "edge-gateway-" + suffix
	gwName := "edge-gateway-" + suffix
	const name = "edge-gateway"

	// Before its MeshGateway: nothing is created, and the instance says what it waits for.
	inst := e.createInstance(seedInstance(service))
	cond := e.waitReady(name, "False", ReasonNoMeshGateway)
	assert.Contains(t, cond["message"], service)
	assert.Contains(t, cond["message"], `mesh "default"`)
	e.waitWarningEvent(name, ReasonNoMeshGateway)
	e.requireAbsent(name)

	// The MeshGateway appears: Deployment and Service follow.
	e.createGateway(seedGateway(gwName, service, ""))
	dep := e.waitDeployment(name, func(d *appsv1.Deployment) bool { return true })
	svc := e.waitService(name, func(*corev1.Service) bool { return true })
	ready := e.waitReady(name, "True", ReasonReady)
	firstTransition := ready["lastTransitionTime"]

	owner := metav1.OwnerReference{APIVersion: "kuma.io/v1alpha1", Kind: "MeshGatewayInstance",
		Name: name, UID: inst.GetUID(), Controller: new(true), BlockOwnerDeletion: new(true)}
	managed := map[string]string{meta.ManagedByLabel: meta.ManagedByValue, meta.InstanceLabel: name, "app": name}

	require.Equal(t, int32(2), *dep.Spec.Replicas)
	assert.Equal(t, []metav1.OwnerReference{owner}, dep.OwnerReferences)
	assert.Equal(t, managed, dep.Labels)
	assert.Equal(t, map[string]string{"app": name}, dep.Spec.Selector.MatchLabels)
	pod := dep.Spec.Template
	assert.Equal(t, "builtin", pod.Annotations[meta.GatewayAnnotation])
	assert.Equal(t, "default", pod.Annotations[meta.MeshAnnotation])
	var tags map[string]string
	require.NoError(t, json.Unmarshal([]byte(pod.Annotations[meta.TagsAnnotation]), &tags))
	assert.Equal(t, map[string]string{meta.ServiceTag: service}, tags)
	assert.Equal(t, "disabled", pod.Labels[meta.SidecarInjection])
	assert.Equal(t, name, pod.Labels["app"])
	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	assert.Equal(t, "kuma-gateway", c.Name)
	assert.Equal(t, testImage, c.Image)
	assert.Equal(t, []string{"dataplane"}, c.Args)
	assert.Equal(t, []corev1.EnvVar{
		{Name: meta.EnvPodName, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: meta.EnvPodNamespace, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
		{Name: meta.EnvCPAddress, Value: testCPAddress},
		{Name: meta.EnvCPCA, Value: string(e.ca)},
	}, c.Env)
	assert.Equal(t, []int32{8080}, containerPorts(dep))

	assert.Equal(t, corev1.ServiceTypeLoadBalancer, svc.Spec.Type)
	assert.Equal(t, []metav1.OwnerReference{owner}, svc.OwnerReferences)
	assert.Equal(t, managed, svc.Labels)
	assert.Equal(t, "true", svc.Annotations["service.beta.kubernetes.io/aws-load-balancer-internal"])
	assert.Equal(t, map[string]string{"app": name}, svc.Spec.Selector)
	assert.Equal(t, "10.0.0.10", svc.Spec.LoadBalancerIP)
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, "http-8080", svc.Spec.Ports[0].Name)
	assert.Equal(t, int32(8080), svc.Spec.Ports[0].Port)
	assert.Equal(t, int32(8080), svc.Spec.Ports[0].TargetPort.IntVal)
	assert.Equal(t, corev1.ProtocolTCP, svc.Spec.Ports[0].Protocol)
	nodePort := svc.Spec.Ports[0].NodePort

	// A listener added to the MeshGateway adds a Service port (and a container port); the
	// existing port keeps its node port.
	gw, err := e.dyn.Resource(GatewayGVR).Get(e.ctx, gwName, metav1.GetOptions{})
	require.NoError(t, err)
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "conf", "listeners")
	listeners = append(listeners, map[string]any{"port": int64(9090), "protocol": "HTTP", "hostname": "bar.example.com"})
	require.NoError(t, unstructured.SetNestedSlice(gw.Object, listeners, "spec", "conf", "listeners"))
	_, err = e.dyn.Resource(GatewayGVR).Update(e.ctx, gw, metav1.UpdateOptions{})
	require.NoError(t, err)
	svc = e.waitService(name, func(s *corev1.Service) bool { return slices.Equal(servicePorts(s), []int32{8080, 9090}) })
	assert.Equal(t, "http-9090", svc.Spec.Ports[1].Name)
	assert.Equal(t, nodePort, svc.Spec.Ports[0].NodePort, "the 8080 node port is kept")
	e.waitDeployment(name, func(d *appsv1.Deployment) bool { return slices.Equal(containerPorts(d), []int32{8080, 9090}) })

	// Replicas follow the instance; Ready stays True with its first transition time and the
	// new generation observed.
	_, err = e.dyn.Resource(InstanceGVR).Namespace(e.ns).Patch(e.ctx, name, types.MergePatchType,
		[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	e.waitDeployment(name, func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 3 })
	ready = e.waitReady(name, "True", ReasonReady)
	assert.Equal(t, firstTransition, ready["lastTransitionTime"], "lastTransitionTime changes only with the status")

	// Managed objects edited or deleted by hand are put back.
	_, err = e.kube.AppsV1().Deployments(e.ns).Patch(e.ctx, name, types.MergePatchType,
		[]byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	e.waitDeployment(name, func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 3 })
	require.NoError(t, e.kube.CoreV1().Services(e.ns).Delete(e.ctx, name, metav1.DeleteOptions{}))
	e.waitService(name, func(s *corev1.Service) bool {
		return s.UID != svc.UID && slices.Equal(servicePorts(s), []int32{8080, 9090})
	})

	// A listener removed from the MeshGateway removes its port.
	gw, err = e.dyn.Resource(GatewayGVR).Get(e.ctx, gwName, metav1.GetOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedSlice(gw.Object, listeners[1:], "spec", "conf", "listeners"))
	_, err = e.dyn.Resource(GatewayGVR).Update(e.ctx, gw, metav1.UpdateOptions{})
	require.NoError(t, err)
	e.waitService(name, func(s *corev1.Service) bool { return slices.Equal(servicePorts(s), []int32{9090}) })
	e.waitDeployment(name, func(d *appsv1.Deployment) bool { return slices.Equal(containerPorts(d), []int32{9090}) })

	// Deleting the instance deletes both.
	require.NoError(t, e.dyn.Resource(InstanceGVR).Namespace(e.ns).Delete(e.ctx, name, metav1.DeleteOptions{}))
	e.waitGone(name)
}

func TestInvalidInstanceGetsNothing(t *testing.T) {
	e := newEnv(t)
	suffix := randomSuffix()
	service := "invalid-" + suffix
	// A MeshGateway that would serve it: the instance's own errors are why nothing appears.
	e.createGateway(seedGateway("invalid-"+suffix, service, ""))
	e.createInstance(fmt.Sprintf(`
apiVersion: kuma.io/v1alpha1
kind: MeshGatewayInstance
metadata:
  name: broken
spec:
  replicas: 0
  tags:
    kuma.io/service: %s
  serviceTemplate:
    spec:
      loadBalancerIP: not-an-ip
`, service))
	cond := e.waitReady("broken", "False", ReasonInvalid)
	assert.Contains(t, cond["message"], "replicas: must be at least 1")
	assert.Contains(t, cond["message"], "serviceTemplate.spec.loadBalancerIP: must be an IP address")
	e.waitWarningEvent("broken", ReasonInvalid)
	e.requireAbsent("broken")
}

// TestCustomizedInstance: Kuma 2.7's default kuma.io/service, the mesh label, podTemplate
// and resources customization, and a ClusterIP Service.
func TestCustomizedInstance(t *testing.T) {
	e := newEnv(t)
	suffix := randomSuffix()
	mesh := "mesh-" + suffix
	const name = "custom"
	service := name + "_" + e.ns + "_svc"
	// A MeshGateway of another mesh selecting the same tags must not be the one served.
	e.createGateway(fmt.Sprintf(`
apiVersion: kuma.io/v1alpha1
kind: MeshGateway
mesh: default
metadata:
  name: decoy-%s
spec:
  selectors:
  - match:
      kuma.io/service: %s
  conf:
    listeners:
      - port: 7070
        protocol: TCP
`, suffix, service))
	e.createGateway(fmt.Sprintf(`
apiVersion: kuma.io/v1alpha1
kind: MeshGateway
mesh: %s
metadata:
  name: custom-%s
spec:
  selectors:
  - match:
      kuma.io/service: %s
  conf:
    listeners:
      - port: 6060
        protocol: TCP
      - port: 443
        protocol: HTTPS
        hostname: a.example.com
        tls:
          mode: TERMINATE
          certificates:
          - secret: cert
`, mesh, suffix, service))
	e.createInstance(fmt.Sprintf(`
apiVersion: kuma.io/v1alpha1
kind: MeshGatewayInstance
metadata:
  name: %s
  labels:
    kuma.io/mesh: %s
spec:
  serviceType: ClusterIP
  resources:
    limits:
      cpu: 1
      memory: 256Mi
    requests:
      cpu: 100m
      memory: 128Mi
  serviceTemplate:
    metadata:
      labels:
        team: edge
  podTemplate:
    metadata:
      labels:
        team: edge
      annotations:
        kuma.io/gateway: enabled
        example.com/note: kept
    spec:
      serviceAccountName: edge-gateway
      securityContext:
        fsGroup: 1000
      container:
        securityContext:
          readOnlyRootFilesystem: true
`, name, mesh))
	e.waitReady(name, "True", ReasonReady)
	dep, err := e.deployment(name)
	require.NoError(t, err)
	svc, err := e.service(name)
	require.NoError(t, err)

	assert.Equal(t, int32(1), *dep.Spec.Replicas, "replicas default to 1")
	pod := dep.Spec.Template
	var tags map[string]string
	require.NoError(t, json.Unmarshal([]byte(pod.Annotations[meta.TagsAnnotation]), &tags))
	assert.Equal(t, map[string]string{meta.ServiceTag: service}, tags)
	assert.Equal(t, mesh, pod.Annotations[meta.MeshAnnotation])
	assert.Equal(t, "builtin", pod.Annotations[meta.GatewayAnnotation], "the builtin annotation wins over podTemplate's")
	assert.Equal(t, "kept", pod.Annotations["example.com/note"])
	assert.Equal(t, "edge", pod.Labels["team"])
	assert.Equal(t, "edge-gateway", pod.Spec.ServiceAccountName)
	require.NotNil(t, pod.Spec.SecurityContext)
	assert.Equal(t, int64(1000), *pod.Spec.SecurityContext.FSGroup)
	c := pod.Spec.Containers[0]
	require.NotNil(t, c.SecurityContext)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.True(t, c.Resources.Limits.Cpu().Equal(resource.MustParse("1")), "cpu limit %v", c.Resources.Limits.Cpu())
	assert.True(t, c.Resources.Limits.Memory().Equal(resource.MustParse("256Mi")))
	assert.True(t, c.Resources.Requests.Cpu().Equal(resource.MustParse("100m")))
	assert.True(t, c.Resources.Requests.Memory().Equal(resource.MustParse("128Mi")))
	assert.Equal(t, []int32{443, 6060}, containerPorts(dep))

	assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	assert.Equal(t, []int32{443, 6060}, servicePorts(svc), "the ports of the MeshGateway of the instance's mesh")
	assert.Equal(t, []string{"https-443", "tcp-6060"}, []string{svc.Spec.Ports[0].Name, svc.Spec.Ports[1].Name})
	assert.Equal(t, "edge", svc.Labels["team"])
	assert.Equal(t, meta.ManagedByValue, svc.Labels[meta.ManagedByLabel])

	// The Service type follows the instance both ways (LoadBalancer-only fields must go
	// when it turns back into a ClusterIP Service, or the server refuses the update).
	for _, typ := range []corev1.ServiceType{corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP} {
		_, err = e.dyn.Resource(InstanceGVR).Namespace(e.ns).Patch(e.ctx, name, types.MergePatchType,
			[]byte(`{"spec":{"serviceType":"`+string(typ)+`"}}`), metav1.PatchOptions{})
		require.NoError(t, err)
		e.waitService(name, func(s *corev1.Service) bool {
			return s.Spec.Type == typ && slices.Equal(servicePorts(s), []int32{443, 6060}) && s.UID == svc.UID
		})
		e.waitReady(name, "True", ReasonReady)
	}

	// Its MeshGateway gone, the instance waits again, but keeps its Deployment and Service:
	// deleting them would drop a load balancer's address over a MeshGateway being replaced.
	require.NoError(t, e.dyn.Resource(GatewayGVR).Delete(e.ctx, "custom-"+suffix, metav1.DeleteOptions{}))
	cond := e.waitReady(name, "False", ReasonNoMeshGateway)
	assert.Contains(t, cond["message"], mesh)
	kept, err := e.deployment(name)
	require.NoError(t, err, "the Deployment is kept")
	assert.Equal(t, dep.UID, kept.UID)
	_, err = e.service(name)
	require.NoError(t, err, "the Service is kept")
}
