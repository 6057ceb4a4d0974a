package kubetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/meshgate/meshgate/api/kube"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs creates meshgate's CRDs (kube.CRDs) on the test API server and waits until each
// is Established. CRDs are cluster-wide and shared by every test of the run: one that already
// exists is left as it is, and none is deleted afterwards. It goes through the dynamic client so
// tests need no apiextensions client.
func InstallCRDs(t testing.TB) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(Config(t))
	require.NoError(t, err, "dynamic client for the test API server")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	crds := dyn.Resource(crdGVR)
	for _, crd := range kube.CRDs() {
		obj := &unstructured.Unstructured{Object: crd}
		_, err := crds.Create(ctx, obj, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err, "create CRD %s", obj.GetName())
		}
	}
	for _, crd := range kube.CRDs() {
		name := (&unstructured.Unstructured{Object: crd}).GetName()
		require.NoError(t, waitEstablished(ctx, dyn, name),
			"CRD %s was not Established within a minute", name)
	}
}

func waitEstablished(ctx context.Context, dyn dynamic.Interface, name string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err == nil && established(got) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for CRD %s (last get error: %v): %w", name, err, ctx.Err())
		case <-tick.C:
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
