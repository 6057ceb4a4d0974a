package test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/controlplane"
	"github.com/meshgate/meshgate/test/kubetest"
)

// kubeWorld is one test's share of the test API server: a namespace of its own and a mesh
// with a random name, so the control plane under test (which watches the whole cluster, like a
// real one) serves this test's gateway from this test's resources only.
type kubeWorld struct {
	t      *testing.T
	client kubernetes.Interface
	dyn    dynamic.Interface
	ns     string
	mesh   string
	// gwService is the gateway's kuma.io/service tag.
	gwService string
}

func newKubeWorld(t *testing.T) *kubeWorld {
	t.Helper()
	kubetest.InstallCRDs(t)
	c := kubetest.Client(t)
	dyn, err := dynamic.NewForConfig(kubetest.Config(t))
	require.NoError(t, err)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	return &kubeWorld{t: t, client: c, dyn: dyn, ns: kubetest.Namespace(t, c), mesh: "m-" + suffix, gwService: "edge-gateway-" + suffix}
}

func kumaGVR(plural string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "kuma.io", Version: "v1alpha1", Resource: plural}
}

// apply creates every Kuma object of a multi-document manifest; cluster-scoped ones are
// deleted when the test ends.
func (w *kubeWorld) apply(manifest string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, doc := range strings.Split(manifest, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		require.NoError(w.t, sigyaml.Unmarshal([]byte(doc), &obj))
		u := &unstructured.Unstructured{Object: obj}
		plural := strings.ToLower(u.GetKind()) + "s"
		if u.GetKind() == "Mesh" {
			plural = "meshes"
		}
		var ri dynamic.ResourceInterface = w.dyn.Resource(kumaGVR(plural))
		if u.GetNamespace() != "" {
			ri = w.dyn.Resource(kumaGVR(plural)).Namespace(u.GetNamespace())
		}
		_, err := ri.Create(ctx, u, metav1.CreateOptions{})
		require.NoError(w.t, err, "create %s %s", u.GetKind(), u.GetName())
		if u.GetNamespace() == "" {
			name := u.GetName()
			w.t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := ri.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					w.t.Logf("delete %s: %v", name, err)
				}
			})
		}
	}
}

// seedResources are the seed's Kubernetes manifests (MeshGateway and MeshGatewayRoute) in this
// world's mesh, with the README example's two routes and their backends' Kuma service names.
func (w *kubeWorld) seedResources() string {
	r := strings.NewReplacer("MESH", w.mesh, "GWSVC", w.gwService, "NS", w.ns)
	return r.Replace(`apiVersion: kuma.io/v1alpha1
kind: Mesh
metadata:
  name: MESH
---
apiVersion: kuma.io/v1alpha1
kind: MeshGateway
mesh: MESH
metadata:
  name: GWSVC
spec:
  selectors:
    - match:
        kuma.io/service: GWSVC
  conf:
    listeners:
      - port: 8080
        protocol: HTTP
        hostname: foo.example.com
        tags:
          port: http/8080
---
apiVersion: kuma.io/v1alpha1
kind: MeshGatewayRoute
mesh: MESH
metadata:
  name: GWSVC-frontend
spec:
  selectors:
    - match:
        kuma.io/service: GWSVC
        port: http/8080
  conf:
    http:
      rules:
        - matches:
            - path:
                match: PREFIX
                value: /
          backends:
            - destination:
                kuma.io/service: frontend_NS_svc_9001
---
apiVersion: kuma.io/v1alpha1
kind: MeshGatewayRoute
mesh: MESH
metadata:
  name: GWSVC-api
spec:
  selectors:
    - match:
        kuma.io/service: GWSVC
        port: http/8080
  conf:
    http:
      rules:
        - matches:
            - path:
                match: PREFIX
                value: /api
          backends:
            - destination:
                kuma.io/service: api_NS_svc_9002
`)
}

// universalEquivalent is seedResources in universal form, with the Dataplanes meshgate derives
// from the world's pods written out by hand as a universal user writes them.
func (w *kubeWorld) universalEquivalent() string {
	r := strings.NewReplacer("MESH", w.mesh, "GWSVC", w.gwService, "NS", w.ns)
	return r.Replace(`type: Mesh
name: MESH
---
type: MeshGateway
mesh: MESH
name: GWSVC
selectors:
  - match:
      kuma.io/service: GWSVC
conf:
  listeners:
    - port: 8080
      protocol: HTTP
      hostname: foo.example.com
      tags:
        port: http/8080
---
type: MeshGatewayRoute
mesh: MESH
name: GWSVC-frontend
selectors:
  - match:
      kuma.io/service: GWSVC
      port: http/8080
conf:
  http:
    rules:
      - matches:
          - path:
              match: PREFIX
              value: /
        backends:
          - destination:
              kuma.io/service: frontend_NS_svc_9001
---
type: MeshGatewayRoute
mesh: MESH
name: GWSVC-api
selectors:
  - match:
      kuma.io/service: GWSVC
      port: http/8080
conf:
  http:
    rules:
      - matches:
          - path:
              match: PREFIX
              value: /api
        backends:
          - destination:
              kuma.io/service: api_NS_svc_9002
`)
}

// pod creates a pod object and gives it an IP, as the kubelet would (there is none).
func (w *kubeWorld) pod(name, serviceAccount, ip string, labels, annotations map[string]string, ports ...int32) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cports []corev1.ContainerPort
	for _, p := range ports {
		cports = append(cports, corev1.ContainerPort{ContainerPort: p, Protocol: corev1.ProtocolTCP})
	}
	p, err := w.client.CoreV1().Pods(w.ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{ServiceAccountName: serviceAccount,
			Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1", Ports: cports}}},
	}, metav1.CreateOptions{})
	require.NoError(w.t, err, "create pod %s", name)
	w.t.Cleanup(func() {
		// Without a kubelet only an immediate deletion removes a pod, and nothing finishes
		// deleting the namespace: left behind, the pod would be seen by later tests.
		zero := int64(0)
		_ = w.client.CoreV1().Pods(w.ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	_, err = w.client.CoreV1().Pods(w.ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	require.NoError(w.t, err, "set the IP of pod %s", name)
}

func (w *kubeWorld) serviceAccount(name string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := w.client.CoreV1().ServiceAccounts(w.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(w.t, err)
}

// token is a ServiceAccount token, as the kubelet projects into a pod.
func (w *kubeWorld) token(serviceAccount string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr, err := w.client.CoreV1().ServiceAccounts(w.ns).CreateToken(ctx, serviceAccount, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(w.t, err, "TokenRequest for %s", serviceAccount)
	return tr.Status.Token
}

func (w *kubeWorld) service(name string, port int32) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app := "http"
	_, err := w.client.CoreV1().Services(w.ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: port, AppProtocol: &app}}},
	}, metav1.CreateOptions{})
	require.NoError(w.t, err)
}

// populate creates the gateway pod (as the MeshGatewayInstance controller's Deployment would)
// and the two backends with their Services, in the mesh by namespace annotation.
func (w *kubeWorld) populate() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := w.client.CoreV1().Namespaces().Get(ctx, w.ns, metav1.GetOptions{})
	require.NoError(w.t, err)
	ns.Labels = map[string]string{"kuma.io/sidecar-injection": "enabled"}
	ns.Annotations = map[string]string{"kuma.io/mesh": w.mesh}
	_, err = w.client.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{})
	require.NoError(w.t, err)
	w.serviceAccount("gateway")
	w.serviceAccount("intruder")
	// No controller-manager creates "default" here.
	w.serviceAccount("default")
	w.service("frontend", 9001)
	w.service("api", 9002)
	w.pod("frontend-0", "", "10.1.0.11", map[string]string{"app": "frontend"}, nil, 9001)
	w.pod("api-0", "", "10.1.0.12", map[string]string{"app": "api"}, nil, 9002)
	w.pod("edge-0", "gateway", "10.1.0.10", map[string]string{"app": "edge"}, map[string]string{
		"kuma.io/gateway": "builtin",
		"kuma.io/tags":    `{"kuma.io/service":"` + w.gwService + `"}`,
		"kuma.io/mesh":    w.mesh,
	})
}

func startKubeCP(t *testing.T, ns string) *runningCP {
	t.Helper()
	return startCP(t, t.TempDir(), func(c *controlplane.Config) {
		c.Environment = controlplane.EnvironmentKubernetes
		c.Kube.Kubeconfig = kubetest.KubeconfigPath(t)
		c.Kube.Namespace = ns
		c.Kube.GatewayImage = "meshgate/meshgate:test"
		// Tests share the API server: each control plane serves its own test's instances.
		c.Kube.GatewayInstanceNamespace = c.Kube.Namespace
	})
}

// waitDataplane waits until the control plane knows a dataplane (the pod became one).
func waitDataplane(t *testing.T, cp *runningCP, mesh, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := cp.call(t, http.MethodGet, "/meshes/"+mesh+"/dataplanes/"+name, "", nil)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dataplane %s/%s never appeared: last answer %d %s", mesh, name, code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKubernetesGatewayPodOverADS: the seed's MeshGateway and routes applied as Kubernetes
// objects, and a gateway pod with an IP, become a gateway Dataplane that gets the routes over
// ADS, authenticated with its ServiceAccount's token; another ServiceAccount's token is refused,
// and the pod fetches its Envoy bootstrap with its token.
func TestKubernetesGatewayPodOverADS(t *testing.T) {
	w := newKubeWorld(t)
	w.apply(w.seedResources())
	w.populate()
	cp := startKubeCP(t, w.ns)
	gw := "edge-0." + w.ns
	waitDataplane(t, cp, w.mesh, gw)
	node := w.mesh + "." + gw

	e := newMiniEnvoy(t, newSotW(t, dialADS(t, cp.addrs.XDS), node, w.token("gateway")))
	e.start()
	paths := map[string]string{}
	for _, rc := range e.routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				paths[r.GetMatch().GetPrefix()+r.GetMatch().GetPath()] = r.GetRoute().GetCluster() + r.GetRoute().GetWeightedClusters().String()
			}
		}
	}
	require.NotEmpty(t, paths, "no routes served to the gateway pod")
	var sawAPI, sawFrontend bool
	for p, c := range paths {
		if strings.HasPrefix(p, "/api") && strings.Contains(c, "api_"+w.ns+"_svc_9002") {
			sawAPI = true
		}
		if strings.Contains(c, "frontend_"+w.ns+"_svc_9001") {
			sawFrontend = true
		}
	}
	require.True(t, sawAPI && sawFrontend, "routes served: %v", paths)
	require.NotEmpty(t, e.endpoints, "the backends' pods are the clusters' endpoints")

	// Another ServiceAccount's genuine token: PermissionDenied on the first request.
	for _, p := range adsProtocols {
		got, err := p.open(t, dialADS(t, cp.addrs.XDS), node, bearer(w.token("intruder")))
		require.False(t, got, "%s: a refused stream must receive nothing", p.name)
		require.Equal(t, codes.PermissionDenied, status.Code(err), "%s: %v", p.name, err)
		require.Contains(t, err.Error(), "intruder")
	}

	// The bootstrap `meshgate dataplane` fetches: with the pod's token, and refused without.
	c, err := client.New("http://"+cp.addrs.API, w.token("gateway"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	boot, err := c.KubernetesBootstrap(ctx, client.KubernetesBootstrapRequest{Pod: "edge-0", Namespace: w.ns})
	require.NoError(t, err)
	require.Contains(t, string(boot), node)
	c2, err := client.New("http://"+cp.addrs.API, w.token("intruder"))
	require.NoError(t, err)
	_, err = c2.KubernetesBootstrap(ctx, client.KubernetesBootstrapRequest{Pod: "edge-0", Namespace: w.ns})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusForbidden, apiErr.StatusCode, "%v", err)
	// A token the API server does not know: 401, whether or not the pod is a Dataplane.
	c3, err := client.New("http://"+cp.addrs.API, "not-a-token")
	require.NoError(t, err)
	for _, pod := range []string{"edge-0", "no-such-pod"} {
		_, err = c3.KubernetesBootstrap(ctx, client.KubernetesBootstrapRequest{Pod: pod, Namespace: w.ns})
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusUnauthorized, apiErr.StatusCode, "%s: %v", pod, err)
	}

	// What the gateway container runs: `meshgate dataplane` fetches the same bootstrap over the
	// HTTPS API, verified with the CA the controller puts in its environment, and writes it.
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(w.token("gateway")), 0o600))
	out := filepath.Join(dir, "boot", "bootstrap.yaml")
	cmd := exec.Command(buildBinary(t), "dataplane", "--bootstrap-only", "--token-file", tokenFile, "--bootstrap-file", out)
	cmd.Env = append(os.Environ(), "POD_NAME=edge-0", "POD_NAMESPACE="+w.ns,
		"MESHGATE_CP_ADDRESS=https://"+cp.addrs.APITLS, "MESHGATE_CP_CA="+string(cp.caPEM))
	combined, err := cmd.CombinedOutput()
	require.NoError(t, err, string(combined))
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	var bs bootstrapv3.Bootstrap
	js, err := sigyaml.YAMLToJSON(written)
	require.NoError(t, err)
	require.NoError(t, protojson.Unmarshal(js, &bs))
	require.NoError(t, bs.ValidateAll())
	require.Equal(t, node, bs.GetNode().GetId())
	fi, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the bootstrap holds the token")

	// Resources are the cluster's: the API refuses writes.
	code, body := cp.call(t, http.MethodDelete, "/meshes/"+w.mesh+"/meshgateways/"+w.gwService, "", nil)
	require.Equal(t, http.StatusForbidden, code, string(body))
	require.Contains(t, string(body), "change them with kubectl")
}

// universalDataplanes are the Dataplanes a universal user writes for the world's three pods:
// what meshgate derives from them in Kubernetes mode, Kuma's tags included.
func (w *kubeWorld) universalDataplanes() string {
	r := strings.NewReplacer("MESH", w.mesh, "GWSVC", w.gwService, "NS", w.ns)
	inbound := func(name, port string) string {
		return `type: Dataplane
mesh: MESH
name: ` + name + `-0.NS
networking:
  address: ADDR
  inbound:
    - port: ` + port + `
      tags:
        app: ` + name + `
        k8s.kuma.io/namespace: NS
        k8s.kuma.io/service-name: ` + name + `
        k8s.kuma.io/service-port: "` + port + `"
        kuma.io/protocol: http
        kuma.io/service: ` + name + `_NS_svc_` + port + `
  transparentProxying:
    redirectPortInbound: 15006
    redirectPortOutbound: 15001
    ipFamilyMode: DualStack
`
	}
	return r.Replace(`type: Dataplane
mesh: MESH
name: edge-0.NS
networking:
  address: 10.1.0.10
  gateway:
    type: BUILTIN
    tags:
      kuma.io/service: GWSVC
---
` + strings.Replace(inbound("frontend", "9001"), "ADDR", "10.1.0.11", 1) + "---\n" +
		strings.Replace(inbound("api", "9002"), "ADDR", "10.1.0.12", 1))
}

// TestKubernetesAndUniversalSameXDS: the same resources, as Kubernetes objects and pods or as
// universal resources, give the gateway the same listeners, routes, clusters and endpoints.
// Secrets differ by nature (each control plane has its own CA) and are compared by name only.
func TestKubernetesAndUniversalSameXDS(t *testing.T) {
	w := newKubeWorld(t)
	w.apply(w.seedResources())
	w.populate()
	kcp := startKubeCP(t, w.ns)
	gw := "edge-0." + w.ns
	waitDataplane(t, kcp, w.mesh, gw)
	waitDataplane(t, kcp, w.mesh, "api-0."+w.ns)
	waitDataplane(t, kcp, w.mesh, "frontend-0."+w.ns)

	ucp := startCP(t, t.TempDir())
	code, body := ucp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(w.universalEquivalent()+"---\n"+w.universalDataplanes()))
	require.Equal(t, http.StatusOK, code, string(body))

	path := "/meshes/" + w.mesh + "/dataplanes/" + gw + "/xds"
	get := func(cp *runningCP) map[string]any {
		// The apply is answered before the rebuild that renders it.
		deadline := time.Now().Add(20 * time.Second)
		code, body := cp.call(t, http.MethodGet, path, "", nil)
		for code == http.StatusNotFound && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			code, body = cp.call(t, http.MethodGet, path, "", nil)
		}
		require.Equal(t, http.StatusOK, code, string(body))
		var out map[string]any
		require.NoError(t, json.Unmarshal(body, &out))
		return out
	}
	kube, universal := get(kcp), get(ucp)
	require.NotEmpty(t, kube)
	for _, typ := range []string{"listeners", "routes", "clusters", "endpoints"} {
		require.NotEmpty(t, universal[typ], "the universal gateway has no %s", typ)
	}
	for typ := range universal {
		if strings.Contains(strings.ToLower(typ), "secret") {
			continue
		}
		require.Equal(t, universal[typ], kube[typ], "%s differs between universal and Kubernetes mode", typ)
	}
	require.ElementsMatch(t, keysOf(universal), keysOf(kube))
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
