package kube_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/meshgate/meshgate/api/kube"
	"github.com/meshgate/meshgate/test/kubetest"
)

// TestControlPlaneAppliesToAPIServer creates what `meshgate install control-plane` prints, as
// printed (the YAML parsed back), on the real kube-apiserver: each object is first created with
// dryRun=All, then for real, so the API server's validation of every kind is exercised. The API
// server is shared with other tests, so:
//   - the namespace is random, and deleted at the end;
//   - the ClusterRole and ClusterRoleBinding, named `meshgate` in the output, get a name of
//     their own (the binding's roleRef follows) and are deleted at the end;
//   - the ValidatingWebhookConfiguration is only dry-run: registered for real, it would send
//     every test's kuma.io writes to a control plane that does not run here, and refuse them
//     (failurePolicy Fail);
//   - the CRDs are shared by every test: one that exists already is fine, none is deleted.
func TestControlPlaneAppliesToAPIServer(t *testing.T) {
	cfg := kubetest.Config(t)
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))

	b := make([]byte, 4)
	_, err = rand.Read(b)
	require.NoError(t, err)
	suffix := hex.EncodeToString(b)
	namespace := "meshgate-install-" + suffix
	objs, err := kube.ControlPlane(kube.ControlPlaneOptions{
		Namespace: namespace, Image: "example.com/meshgate:v0.0.0-test", AdminTokenSecret: "meshgate-admin-token",
	})
	require.NoError(t, err)
	printed, err := kube.WriteDocuments(objs)
	require.NoError(t, err)
	docs := parseDocuments(t, printed)
	require.Len(t, docs, len(objs))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var kinds []string
	for _, u := range docs {
		kind, name := u.GetKind(), u.GetName()
		kinds = append(kinds, kind)
		switch kind {
		case "ClusterRole":
			u.SetName(name + "-test-" + suffix)
		case "ClusterRoleBinding":
			u.SetName(name + "-test-" + suffix)
			require.NoError(t, unstructured.SetNestedField(u.Object, name+"-test-"+suffix, "roleRef", "name"))
		}
		mapping, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if meta.IsNoMatchError(err) {
			// A CRD created just before: discovery is cached.
			mapper.Reset()
			mapping, err = mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		}
		require.NoError(t, err, "REST mapping of %s", kind)
		var client dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			require.Equal(t, namespace, u.GetNamespace(), "%s %s", kind, name)
			client = dyn.Resource(mapping.Resource).Namespace(namespace)
		} else {
			require.Empty(t, u.GetNamespace(), "%s %s is cluster-scoped", kind, name)
		}

		_, err = client.Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if kind == "CustomResourceDefinition" && apierrors.IsAlreadyExists(err) {
			continue
		}
		require.NoError(t, err, "dry-run create %s %s", kind, u.GetName())
		if kind == "ValidatingWebhookConfiguration" {
			continue
		}
		created, err := client.Create(ctx, u, metav1.CreateOptions{})
		if kind == "CustomResourceDefinition" && apierrors.IsAlreadyExists(err) {
			continue // created by another test between the dry run and now
		}
		require.NoError(t, err, "create %s %s", kind, u.GetName())
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace && kind != "CustomResourceDefinition" {
			deleteAtEnd(t, client, kind, created.GetName())
		}
		if kind == "Deployment" {
			containers, _, _ := unstructured.NestedSlice(created.Object, "spec", "template", "spec", "containers")
			require.Len(t, containers, 1)
			assert.Contains(t, containers[0].(map[string]any)["args"], "--gateway-image=example.com/meshgate:v0.0.0-test")
		}
	}
	assert.Equal(t, []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"Deployment", "Service", "ValidatingWebhookConfiguration"}, kinds[len(kube.CRDs()):],
		"every kind of the output was applied")
}

func parseDocuments(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for i := 0; i < 1000; i++ {
		u := &unstructured.Unstructured{}
		err := dec.Decode(u)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, "document %d of the printed manifests", i)
		out = append(out, u)
	}
	t.Fatal("more than 1000 documents")
	return nil
}

func deleteAtEnd(t *testing.T, client dynamic.ResourceInterface, kind, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete %s %s: %v", kind, name, err)
		}
	})
}

// TestWebhookCABundleSurvivesReapply: the control plane sets the caBundle of the printed
// webhook configuration (an update, field manager meshgate); applying the printed file again
// (server-side, without --force-conflicts) must neither fail nor clear it. The printed
// configuration leaves caBundle out for that reason. The configuration gets a name of its own
// and its kuma.io webhook an objectSelector no object matches: registered for real, it would
// otherwise refuse every test's kuma.io writes (failurePolicy Fail, no control plane here).
func TestWebhookCABundleSurvivesReapply(t *testing.T) {
	cfg := kubetest.Config(t)
	client := kubetest.Client(t)
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	b := make([]byte, 4)
	_, err = rand.Read(b)
	require.NoError(t, err)
	suffix := hex.EncodeToString(b)

	objs, err := kube.ControlPlane(kube.ControlPlaneOptions{
		Namespace: "meshgate-reapply-" + suffix, Image: "example.com/meshgate:v0.0.0-test", AdminTokenSecret: "token",
	})
	require.NoError(t, err)
	printed, err := kube.WriteDocuments(objs)
	require.NoError(t, err)
	var vwc *unstructured.Unstructured
	for _, u := range parseDocuments(t, printed) {
		if u.GetKind() == "ValidatingWebhookConfiguration" {
			vwc = u
		}
	}
	require.NotNil(t, vwc)
	vwc.SetName("meshgate-reapply-" + suffix)
	webhooks, _, _ := unstructured.NestedSlice(vwc.Object, "webhooks")
	require.NotEmpty(t, webhooks)
	for _, w := range webhooks {
		w.(map[string]any)["objectSelector"] = map[string]any{"matchLabels": map[string]any{"meshgate.io/reapply-test": suffix}}
	}
	require.NoError(t, unstructured.SetNestedSlice(vwc.Object, webhooks, "webhooks"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gvr := admissionGVR("validatingwebhookconfigurations")
	apply := func() error {
		_, err := dyn.Resource(gvr).Apply(ctx, vwc.GetName(), vwc, metav1.ApplyOptions{FieldManager: "kubectl"})
		return err
	}
	require.NoError(t, apply(), "server-side apply of the printed ValidatingWebhookConfiguration")
	deleteAtEnd(t, dyn.Resource(gvr), "ValidatingWebhookConfiguration", vwc.GetName())

	// What the control plane does at start (controlplane/kubewebhook.go): get, set, update.
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	api := client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	live, err := api.Get(ctx, vwc.GetName(), metav1.GetOptions{})
	require.NoError(t, err)
	for i := range live.Webhooks {
		live.Webhooks[i].ClientConfig.CABundle = ca
	}
	_, err = api.Update(ctx, live, metav1.UpdateOptions{FieldManager: "meshgate"})
	require.NoError(t, err, "set the caBundle as the control plane does")

	require.NoError(t, apply(), "re-applying the printed file conflicts with the control plane's caBundle")
	live, err = api.Get(ctx, vwc.GetName(), metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, live.Webhooks, len(webhooks))
	for _, w := range live.Webhooks {
		assert.Equal(t, string(ca), string(w.ClientConfig.CABundle), "%s: re-applying kept the caBundle", w.Name)
	}
}

func admissionGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: resource}
}
