package test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/kube/gatewayinstance"
	"github.com/meshgate/meshgate/kube/source"
	"github.com/meshgate/meshgate/test/kubetest"
)

// startKubeZone starts a universal global and a Kubernetes zone (`run --environment kubernetes
// --mode zone`) watching the test API server, its MeshGatewayInstance controller limited to
// the world's namespace and its admission webhook on a fixed loopback HTTPS port.
func startKubeZone(t *testing.T, w *kubeWorld, zone, hookName string) (mz *mzWorld, webhookURL string) {
	t.Helper()
	mz = &mzWorld{t: t, bin: buildBinary(t), dir: t.TempDir(), zones: map[string]*binaryCP{}}
	mz.globalF = []string{"--mode", "global", "--kds-address", fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	mz.global = launchBinaryCPIn(t, mz.bin, filepath.Join(mz.dir, "global"), mz.globalF...)
	require.NotEmpty(t, mz.global.kds, "global logged no KDS address")
	ca := filepath.Join(mz.dir, "global-ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte(mz.global.cli(t, "ca", "control-plane")), 0o600))
	token := filepath.Join(mz.dir, zone+".token")
	require.NoError(t, os.WriteFile(token, []byte(strings.TrimSpace(mz.global.cli(t, "token", "zone", "--zone", zone))), 0o600))
	apiTLS := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	mz.zones[zone] = launchBinaryCPIn(t, mz.bin, filepath.Join(mz.dir, zone), "--mode", "zone", "--zone", zone,
		"--global-address", "grpcs://"+mz.global.kds, "--zone-token-file", token, "--global-ca-file", ca,
		"--environment", "kubernetes", "--kubeconfig", kubetest.KubeconfigPath(t), "--kube-namespace", w.ns,
		"--gateway-image", "meshgate/meshgate:test", "--gateway-instance-namespace", w.ns,
		"--api-tls-address", apiTLS, "--webhook-configuration", hookName)
	return mz, "https://" + apiTLS + "/validate"
}

// kubeObject is one Kuma manifest as an unstructured object.
func kubeObject(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	var obj map[string]any
	require.NoError(t, sigyaml.Unmarshal([]byte(manifest), &obj))
	return &unstructured.Unstructured{Object: obj}
}

// TestMultiZoneKube: a universal global and a Kubernetes zone. The seed's MeshGateway and
// routes created on global reach the zone; a MeshGatewayInstance created in the zone's cluster
// gets its Deployment and Service for global's MeshGateway; a gateway pod made from that
// Deployment becomes a Dataplane, served global's routes over ADS with its ServiceAccount token
// and shown on global as zone-k.<name> with kuma.io/zone; a MeshGatewayRoute created in the
// zone's cluster is refused by the webhook with the "create it on global" error, ignored with a
// Warning Event when it bypasses the webhook, and refused by the zone's API.
func TestMultiZoneKube(t *testing.T) {
	const zone = "zone-k"
	w := newKubeWorld(t)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	label := hex.EncodeToString(b)
	hookName := "meshgate-test-mzk-" + label
	mz, hookURL := startKubeZone(t, w, zone, hookName)
	z := mz.zones[zone]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// 1. The seed's gateway and routes, created on global, reach the zone.
	out, err := mz.apply(mz.global, w.universalEquivalent())
	require.NoError(t, err, out)
	apiRoute := w.gwService + "-api"
	body := eventuallyGet(t, z, "/meshes/"+w.mesh+"/meshgatewayroutes/"+apiRoute, func(code int, _ string) bool { return code == 200 })
	require.Contains(t, body, "api_"+w.ns+"_svc_9002")

	// 2. A MeshGatewayInstance in the zone's cluster: Deployment and Service for global's
	// MeshGateway (the zone's cluster holds no MeshGateway).
	w.serviceAccount("default") // no controller-manager makes it
	w.apply(strings.NewReplacer("NS", w.ns, "MESH", w.mesh, "GWSVC", w.gwService).Replace(`apiVersion: kuma.io/v1alpha1
kind: MeshGatewayInstance
metadata:
  name: edge-gateway
  namespace: NS
  labels:
    kuma.io/mesh: MESH
spec:
  replicas: 1
  serviceType: ClusterIP
  tags:
    kuma.io/service: GWSVC
`))
	instances := w.dyn.Resource(kumaGVR("meshgatewayinstances")).Namespace(w.ns)
	waitFor(t, "Ready=True on the instance", func() bool {
		u, err := instances.Get(ctx, "edge-gateway", metav1.GetOptions{})
		require.NoError(t, err)
		c := condition(u, gatewayinstance.ConditionReady)
		return c != nil && c["status"] == "True"
	})
	dep, err := w.client.AppsV1().Deployments(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
	require.NoError(t, err)
	tmpl := dep.Spec.Template
	require.Equal(t, "builtin", tmpl.Annotations["kuma.io/gateway"])
	require.Equal(t, w.mesh, tmpl.Annotations["kuma.io/mesh"])
	svc, err := w.client.CoreV1().Services(w.ns).Get(ctx, "edge-gateway", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	require.Len(t, svc.Spec.Ports, 1)
	require.Equal(t, int32(8080), svc.Spec.Ports[0].Port, "the Service follows the listeners of global's MeshGateway")

	// 3. A gateway pod of that Deployment (no ReplicaSet controller or kubelet here) becomes a
	// Dataplane of global's mesh, served global's routes, and reported to global.
	pod := "edge-gateway-5c8d7-a"
	w.pod(pod, tmpl.Spec.ServiceAccountName, "10.3.0.1", tmpl.Labels, tmpl.Annotations)
	dp := pod + "." + w.ns
	eventuallyGet(t, z, "/meshes/"+w.mesh+"/dataplanes/"+dp, func(code int, _ string) bool { return code == 200 })
	xdsCAs.Store(z.xds, []byte(z.cli(t, "ca", "control-plane")))
	t.Cleanup(func() { xdsCAs.Delete(z.xds) })
	e := newMiniEnvoy(t, newSotW(t, dialADS(t, z.xds), w.mesh+"."+dp, w.token(saOrDefault(tmpl.Spec.ServiceAccountName))))
	e.start()
	require.True(t, routePaths(e)["/api"], "global's route reaches the zone's gateway pod: %v", routePaths(e))
	eventuallyGet(t, mz.global, "/meshes/"+w.mesh+"/dataplanes/"+zone+"."+dp, func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"kuma.io/zone":"`+zone+`"`)
	})

	// 4. A MeshGatewayRoute created in the zone's cluster. Through the webhook (its caBundle
	// set by the zone when the configuration appears): refused.
	const onGlobal = "create, change and delete it on the global control plane"
	webhookFor(t, w, hookName, hookURL, label)
	routes := w.dyn.Resource(kumaGVR("meshgatewayroutes"))
	zoneRoute := func(name string) *unstructured.Unstructured {
		return kubeObject(t, strings.NewReplacer("NAME", name, "MESH", w.mesh, "GWSVC", w.gwService).Replace(`apiVersion: kuma.io/v1alpha1
kind: MeshGatewayRoute
mesh: MESH
metadata:
  name: NAME
spec:
  selectors:
    - match:
        kuma.io/service: GWSVC
  conf:
    http:
      rules:
        - matches:
            - path:
                match: PREFIX
                value: /zone
          backends:
            - destination:
                kuma.io/service: zone-only
`))
	}
	refused := zoneRoute("zone-route-" + label)
	refused.SetLabels(map[string]string{"meshgate-test": label})
	var lastErr error
	waitFor(t, "the webhook to refuse a MeshGatewayRoute in the zone", func() bool {
		_, lastErr = routes.Create(ctx, refused, metav1.CreateOptions{})
		if lastErr == nil {
			_ = routes.Delete(ctx, refused.GetName(), metav1.DeleteOptions{})
		}
		return lastErr != nil && strings.Contains(lastErr.Error(), onGlobal)
	})
	require.Contains(t, lastErr.Error(), `zone "`+zone+`"`)

	// Past the webhook (not labelled for it): stored by the API server, ignored by the zone
	// with a Warning Event saying the same.
	ignored := zoneRoute("zone-route-ignored-" + label)
	_, err = routes.Create(ctx, ignored, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = routes.Delete(context.Background(), ignored.GetName(), metav1.DeleteOptions{}) })
	var event string
	waitFor(t, "a Warning Event on the route the zone ignores", func() bool {
		evs, err := w.client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + ignored.GetName()})
		require.NoError(t, err)
		for _, ev := range evs.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == source.ReasonGlobalResource {
				event = ev.Message
				return true
			}
		}
		return false
	})
	require.Contains(t, event, onGlobal)
	eventuallyGet(t, z, "/meshes/"+w.mesh+"/meshgatewayroutes/"+ignored.GetName(), func(code int, _ string) bool { return code == 404 })
	eventuallyGet(t, mz.global, "/meshes/"+w.mesh+"/meshgatewayroutes/"+ignored.GetName(), func(code int, _ string) bool { return code == 404 })

	// The zone's API refuses the same, with the same words.
	out, err = mz.apply(z, `type: MeshGatewayRoute
mesh: `+w.mesh+`
name: api-write
selectors:
  - match:
      kuma.io/service: `+w.gwService+`
conf:
  http:
    rules:
      - matches:
          - path:
              match: PREFIX
              value: /zone
        backends:
          - destination:
              kuma.io/service: zone-only
`)
	require.Error(t, err)
	require.Contains(t, out, onGlobal)
}
