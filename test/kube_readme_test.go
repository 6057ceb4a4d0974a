package test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	sigyaml "sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/controlplane"
	"github.com/meshgate/meshgate/kube/gatewayinstance"
)

// readmeKubernetesExample is the YAML block that follows README's <!-- kubernetes-example -->
// marker, split into its documents.
func readmeKubernetesExample(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(raw), "<!-- kubernetes-example -->")
	require.True(t, ok, "README has no <!-- kubernetes-example --> block")
	_, block, ok := strings.Cut(after, "```yaml\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	return strings.Split(block, "\n---\n")
}

// webhookFor registers a webhook configuration sending this test's kuma.io objects (labelled
// with its selector) to the control plane's HTTPS API, without a caBundle: the control plane
// sets it, as it does for the configuration `meshgate install control-plane` prints.
func webhookFor(t *testing.T, w *kubeWorld, name, url, label string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fail, none := admissionregv1.Fail, admissionregv1.SideEffectClassNone
	timeout := int32(5)
	cfg := &admissionregv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregv1.ValidatingWebhook{{
			Name:                    "kuma.validator.meshgate.io",
			ClientConfig:            admissionregv1.WebhookClientConfig{URL: &url},
			Rules:                   []admissionregv1.RuleWithOperations{{Operations: []admissionregv1.OperationType{admissionregv1.Create, admissionregv1.Update}, Rule: admissionregv1.Rule{APIGroups: []string{"kuma.io"}, APIVersions: []string{"v1alpha1"}, Resources: []string{"*"}}}},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"meshgate-test": label}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	api := w.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	_, err := api.Create(ctx, cfg, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

// TestKubernetesReadmeExample applies README's Kubernetes example to a real API server with
// meshgate running in Kubernetes mode as the ServiceAccount `meshgate install control-plane`
// creates, with its RBAC, and checks what the README says appears: nothing but a
// waiting instance before the MeshGateway; then a Deployment and a Service as asked; gateway
// pods that become Dataplanes served the route over ADS with their ServiceAccount token; an
// invalid route refused by the admission webhook with `meshgate validate`'s message; and the
// instance's deletion removing both.
func TestKubernetesReadmeExample(t *testing.T) {
	w := newKubeWorld(t)
	docs := readmeKubernetesExample(t)
	require.Len(t, docs, 3)
	for i := range docs {
		docs[i] = strings.ReplaceAll(docs[i], "namespace: default", "namespace: "+w.ns)
	}
	w.serviceAccount("default") // no controller-manager makes it
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	label := hex.EncodeToString(b)
	hookName := "meshgate-test-" + label

	// The control plane runs as the ServiceAccount the printed manifests create, with their
	// RBAC: a permission they lack fails this test.
	kubeconfig := installedIdentity(t, w, label, hookName)
	cp := startCP(t, t.TempDir(), func(c *controlplane.Config) {
		c.Environment = controlplane.EnvironmentKubernetes
		c.Kube.Kubeconfig = kubeconfig
		c.Kube.Namespace = w.ns
		c.Kube.GatewayImage = "meshgate/meshgate:test"
		// Tests share the API server: each control plane serves its own test's instances.
		c.Kube.GatewayInstanceNamespace = c.Kube.Namespace
		c.Kube.WebhookConfiguration = hookName
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// 1. The instance alone: it waits.
	w.apply(docs[0])
	instances := w.dyn.Resource(kumaGVR("meshgatewayinstances")).Namespace(w.ns)
	waitFor(t, "Ready=False NoMeshGateway on the instance", func() bool {
		u, err := instances.Get(ctx, "edge-gateway", metav1.GetOptions{})
		require.NoError(t, err)
		c := condition(u, gatewayinstance.ConditionReady)
		return c != nil && c["status"] == "False" && c["reason"] == gatewayinstance.ReasonNoMeshGateway
	})
	_, err := w.client.AppsV1().Deployments(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "no Deployment before a MeshGateway selects the instance: %v", err)

	// 2. The MeshGateway and the route: a Deployment and a Service as asked.
	w.apply(docs[1] + "\n---\n" + docs[2])
	waitFor(t, "the Deployment and Service", func() bool {
		_, e1 := w.client.AppsV1().Deployments(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
		_, e2 := w.client.CoreV1().Services(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
		return e1 == nil && e2 == nil
	})
	dep, err := w.client.AppsV1().Deployments(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(2), *dep.Spec.Replicas)
	tmpl := dep.Spec.Template
	require.Equal(t, "builtin", tmpl.Annotations["kuma.io/gateway"])
	require.JSONEq(t, `{"kuma.io/service":"edge-gateway"}`, tmpl.Annotations["kuma.io/tags"])
	svc, err := w.client.CoreV1().Services(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, corev1.ServiceTypeLoadBalancer, svc.Spec.Type)
	require.Len(t, svc.Spec.Ports, 1)
	require.Equal(t, int32(8080), svc.Spec.Ports[0].Port)
	require.Equal(t, "true", svc.Annotations["service.beta.kubernetes.io/aws-load-balancer-internal"])
	waitFor(t, "Ready=True on the instance", func() bool {
		u, err := instances.Get(ctx, "edge-gateway", metav1.GetOptions{})
		require.NoError(t, err)
		c := condition(u, gatewayinstance.ConditionReady)
		return c != nil && c["status"] == "True"
	})

	// 3. The pods the Deployment asks for (made here: no ReplicaSet controller, no kubelet)
	// become gateway Dataplanes, served the route with their ServiceAccount's token.
	for i, ip := range []string{"10.2.0.1", "10.2.0.2"} {
		name := "edge-gateway-7d4f9-" + string(rune('a'+i))
		w.pod(name, tmpl.Spec.ServiceAccountName, ip, tmpl.Labels, tmpl.Annotations)
		waitDataplane(t, cp, "default", name+"."+w.ns)
	}
	node := "default.edge-gateway-7d4f9-a." + w.ns
	e := newMiniEnvoy(t, newSotW(t, dialADS(t, cp.addrs.XDS), node, w.token(saOrDefault(tmpl.Spec.ServiceAccountName))))
	e.start()
	var routed bool
	for _, rc := range e.routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if strings.Contains(r.GetRoute().String(), "demo-app_kuma-demo_svc_5000") {
					routed = true
				}
			}
		}
	}
	require.True(t, routed, "the README's route reaches the gateway pod")

	// 4. The admission webhook, its caBundle set by the control plane when the configuration
	// appears.
	webhookFor(t, w, hookName, "https://"+cp.addrs.APITLS+"/validate", label)
	routes := w.dyn.Resource(kumaGVR("meshgatewayroutes"))
	bad := strings.NewReplacer("name: edge-gateway-route", "name: bad-route-"+label, "value: /", "value: no-slash").Replace(docs[2])
	var obj map[string]any
	require.NoError(t, sigyaml.Unmarshal([]byte(bad), &obj))
	u := &unstructured.Unstructured{Object: obj}
	u.SetLabels(map[string]string{"meshgate-test": label})
	var lastErr error
	waitFor(t, "the webhook to refuse an invalid route", func() bool {
		_, lastErr = routes.Create(ctx, u, metav1.CreateOptions{})
		if lastErr == nil {
			_ = routes.Delete(ctx, u.GetName(), metav1.DeleteOptions{})
		}
		return lastErr != nil && strings.Contains(lastErr.Error(), "must be an absolute path")
	})
	require.Contains(t, lastErr.Error(), "conf.http.rules[0].matches[0].path.value")

	// 5. Deleting the instance deletes its Deployment and Service.
	require.NoError(t, instances.Delete(ctx, "edge-gateway", metav1.DeleteOptions{}))
	waitFor(t, "the Deployment and Service gone", func() bool {
		_, e1 := w.client.AppsV1().Deployments(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
		_, e2 := w.client.CoreV1().Services(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
		return apierrors.IsNotFound(e1) && apierrors.IsNotFound(e2)
	})
}

func saOrDefault(sa string) string {
	if sa == "" {
		return "default"
	}
	return sa
}

func condition(u *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 30s waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
