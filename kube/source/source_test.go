package source

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/test/kubetest"
)

func suffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func routeGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "kuma.io", Version: "v1alpha1", Resource: "meshgatewayroutes"}
}

func routeManifest(name, mesh, path string) *unstructured.Unstructured {
	var obj map[string]any
	err := sigyaml.Unmarshal([]byte(`apiVersion: kuma.io/v1alpha1
kind: MeshGatewayRoute
mesh: `+mesh+`
metadata:
  name: `+name+`
spec:
  selectors:
    - match:
        kuma.io/service: edge-gateway
  conf:
    http:
      rules:
        - matches:
            - path:
                match: PREFIX
                value: `+path+`
          backends:
            - destination:
                kuma.io/service: backend
`), &obj)
	if err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: obj}
}

// TestSourceMirrorsAndReports: a valid route reaches the store; an invalid one does not, and
// gets a Valid=False condition with `meshgate validate`'s message and a Warning Event; once
// fixed it reaches the store and its condition turns True; deleted, it leaves the store.
func TestSourceMirrorsAndReports(t *testing.T) {
	kubetest.InstallCRDs(t)
	c := kubetest.Client(t)
	ns := kubetest.Namespace(t, c)
	dyn, err := dynamic.NewForConfig(kubetest.Config(t))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	src, err := New(Options{Client: c, Dynamic: dyn, Store: st, Namespace: ns, Debounce: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(runCtx) }()
	defer func() { stop(); require.NoError(t, <-done) }()
	select {
	case <-src.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("the source did not sync within 30s")
	}

	sfx := suffix()
	routes := dyn.Resource(routeGVR())
	good, bad := "good-"+sfx, "bad-"+sfx
	_, err = routes.Create(ctx, routeManifest(good, "default", "/"), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = routes.Create(ctx, routeManifest(bad, "default", "no-slash"), metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = routes.Delete(context.Background(), good, metav1.DeleteOptions{})
		_ = routes.Delete(context.Background(), bad, metav1.DeleteOptions{})
	})

	inStore := func(name string) bool {
		_, err := st.Get(ctx, store.Key{Kind: "MeshGatewayRoute", Mesh: "default", Name: name})
		return err == nil
	}
	eventually(t, "the valid route in the store", func() bool { return inStore(good) })
	require.False(t, inStore(bad), "an invalid route must not reach the store")

	var cond map[string]any
	eventually(t, "a Valid=False condition on the invalid route", func() bool {
		u, err := routes.Get(ctx, bad, metav1.GetOptions{})
		require.NoError(t, err)
		cond = validCondition(u)
		return cond != nil && cond["status"] == "False"
	})
	msg, _ := cond["message"].(string)
	require.Contains(t, msg, "meshgatewayroutes/"+bad+": MeshGatewayRoute default/"+bad+": conf.http.rules[0].matches[0].path.value:")
	require.Equal(t, ReasonInvalid, cond["reason"])

	eventually(t, "a Warning Event on the invalid route", func() bool {
		evs, err := c.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + bad})
		require.NoError(t, err)
		for _, e := range evs.Items {
			if e.Type == corev1.EventTypeWarning && e.Reason == ReasonInvalid && strings.Contains(e.Message, "path.value") {
				return true
			}
		}
		return false
	})

	// Fixed: it reaches the store and the condition turns True.
	u, err := routes.Get(ctx, bad, metav1.GetOptions{})
	require.NoError(t, err)
	fixed := routeManifest(bad, "default", "/fixed")
	fixed.SetResourceVersion(u.GetResourceVersion())
	_, err = routes.Update(ctx, fixed, metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, "the fixed route in the store", func() bool { return inStore(bad) })
	eventually(t, "Valid=True on the fixed route", func() bool {
		u, err := routes.Get(ctx, bad, metav1.GetOptions{})
		require.NoError(t, err)
		c := validCondition(u)
		return c != nil && c["status"] == "True"
	})

	// Deleted in the cluster: gone from the store.
	require.NoError(t, routes.Delete(ctx, good, metav1.DeleteOptions{}))
	eventually(t, "the deleted route gone from the store", func() bool { return !inStore(good) })
}

func validCondition(u *unstructured.Unstructured) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == ConditionValid {
			return m
		}
	}
	return nil
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 20s waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
