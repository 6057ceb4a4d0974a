package podconv

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/meshgate/meshgate/test/kubetest"
)

// TestConvertFromAPIServer converts objects as the API server returns them, after its
// defaulting (a Service port's targetPort and protocol left out, a headless Service's
// clusterIP) and with the pod IP set through the status subresource, as the kubelet sets it.
func TestConvertFromAPIServer(t *testing.T) {
	c := kubetest.Client(t)
	ns := kubetest.Namespace(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	nsObj, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.Labels["kuma.io/sidecar-injection"] = "enabled"
	nsObj.Annotations = map[string]string{"kuma.io/mesh": "other"}
	_, err = c.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{})
	require.NoError(t, err, "label namespace %s for injection", ns)

	// No controller-manager creates the namespace's default ServiceAccount, which the API
	// server's admission requires of every pod.
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	require.NoError(t, err, "create ServiceAccount %s/default", ns)

	http := "http"
	for _, svc := range []*corev1.Service{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			}},
		},
		{
			// No targetPort: the API server sets it to the port.
			ObjectMeta: metav1.ObjectMeta{Name: "web-admin"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{
				{Name: "admin", Port: 9091, AppProtocol: &http},
			}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "web-peers"},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{
				{Name: "gossip", Port: 7946},
			}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "edge-gateway"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "edge-gateway"}, Ports: []corev1.ServicePort{
				{Name: "http-8080", Port: 8080},
			}},
		},
	} {
		_, err := c.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
		require.NoError(t, err, "create Service %s/%s", ns, svc.Name)
	}

	createPod(ctx, t, c, ns, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "example/web:1",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}, "10.244.9.2")
	// The gateway pod as the MeshGatewayInstance controller's Deployment creates it.
	createPod(ctx, t, c, ns, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "edge-gateway-6f7d9c8b5-x2x7q",
			Labels: map[string]string{
				"app": "edge-gateway", "meshgate.io/gateway-instance": "edge-gateway", "kuma.io/sidecar-injection": "disabled",
			},
			Annotations: map[string]string{
				"kuma.io/gateway": "builtin", "kuma.io/tags": `{"kuma.io/service":"edge-gateway"}`, "kuma.io/mesh": "default",
			},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "gateway", Image: "meshgate/meshgate:dev", Args: []string{"dataplane"},
			Ports: []corev1.ContainerPort{{Name: "http-8080", ContainerPort: 8080}},
		}}},
	}, "10.244.9.3")
	// Not yet given an IP: no Dataplane.
	_, err = c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example/web:1"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	var req Request
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for i := range pods.Items {
		req.Pods = append(req.Pods, &pods.Items[i])
	}
	svcs, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for i := range svcs.Items {
		req.Services = append(req.Services, &svcs.Items[i])
	}
	nsObj, err = c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	req.Namespaces = []*corev1.Namespace{nsObj}

	res := Convert(req)
	require.Empty(t, res.Problems)
	requireValid(t, res)
	require.Equal(t, []string{"default/edge-gateway-6f7d9c8b5-x2x7q." + ns, "other/web-0." + ns}, names(res))

	gw := dataplane(t, res, "edge-gateway-6f7d9c8b5-x2x7q."+ns)
	require.Equal(t, "10.244.9.3", gw.Spec.Networking.Address)
	require.True(t, gw.Spec.IsBuiltin())
	require.Equal(t, map[string]string{"kuma.io/service": "edge-gateway"}, gw.Spec.Networking.Gateway.Tags)
	require.Empty(t, gw.Spec.Networking.Inbound)

	web := dataplane(t, res, "web-0."+ns)
	require.Equal(t, "10.244.9.2", web.Spec.Networking.Address)
	type inbound struct {
		Port                   uint32
		Service, Protocol, Pod string
	}
	var got []inbound
	for _, in := range web.Spec.Networking.Inbound {
		got = append(got, inbound{in.Port, in.Tags["kuma.io/service"], in.Tags["kuma.io/protocol"], in.Tags["kuma.io/instance"]})
	}
	require.Equal(t, []inbound{
		{8080, "web_" + ns + "_svc_80", "tcp", ""},
		{9091, "web-admin_" + ns + "_svc_9091", "http", ""},
		{7946, "web-peers_" + ns + "_svc_7946", "tcp", "web-0"},
	}, got)
}

// createPod creates pod in namespace ns and sets its IP through the status
// subresource, as the kubelet would.
func createPod(ctx context.Context, t *testing.T, c kubernetes.Interface, ns string, pod *corev1.Pod, ip string) {
	t.Helper()
	created, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err, "create pod %s/%s", ns, pod.Name)
	created.Status.Phase = corev1.PodRunning
	created.Status.PodIP = ip
	created.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	_, err = c.CoreV1().Pods(created.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err, "set the IP of pod %s/%s", created.Namespace, created.Name)
}
