package source

import (
	"context"
	"fmt"
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

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/test/kubetest"
)

// TestSourceInZone: in a zone, a gateway pod of a mesh that exists only as a record from
// global becomes a Dataplane once that record arrives (and not before); Kuma objects of kinds
// global owns are left out of the store, with a Warning Event saying why, and a Mesh object
// of the same name as global's does not replace global's record.
func TestSourceInZone(t *testing.T) {
	kubetest.InstallCRDs(t)
	c := kubetest.Client(t)
	ns := kubetest.Namespace(t, c)
	dyn, err := dynamic.NewForConfig(kubetest.Config(t))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	defer st.Close()

	sfx := suffix()
	mesh := "zm-" + sfx
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "edge-" + sfx, Annotations: map[string]string{
			"kuma.io/gateway": "builtin", "kuma.io/mesh": mesh, "kuma.io/tags": `{"kuma.io/service":"edge-` + sfx + `"}`}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "gw", Image: "registry.invalid/gw:1"}}},
	}
	// No controller-manager makes the namespace's default ServiceAccount.
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	p, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		zero := int64(0)
		_ = c.CoreV1().Pods(ns).Delete(context.Background(), pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})
	p.Status.PodIP, p.Status.PodIPs = "10.9.0.1", []corev1.PodIP{{IP: "10.9.0.1"}}
	_, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)

	refuse := func(k store.Key) error {
		if k.Kind == "Dataplane" || k.Kind == "ZoneIngress" {
			return nil
		}
		return fmt.Errorf("%s %s is a global resource: create, change and delete it on the global control plane", k.Kind, k.Name)
	}
	src, err := New(Options{Client: c, Dynamic: dyn, Store: st, Namespace: ns, Debounce: 10 * time.Millisecond,
		Zone: &Zone{Refuse: refuse, Origin: "global"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

	dpKey := store.Key{Kind: "Dataplane", Mesh: mesh, Name: pod.Name + "." + ns}
	_, err = st.Get(ctx, dpKey)
	require.ErrorIs(t, err, store.ErrNotFound, "no Dataplane while its mesh is unknown")

	// The mesh arrives from global: the pod's Dataplane is checked again and written.
	meshKey := store.Key{Kind: "Mesh", Name: mesh}
	_, err = st.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: meshKey, Origin: "global", ExpectedVersion: -1,
		Spec: []byte(`{"type":"Mesh","name":"` + mesh + `"}`)}}})
	require.NoError(t, err)
	eventually(t, "the gateway pod's Dataplane in the store", func() bool {
		rec, err := st.Get(ctx, dpKey)
		return err == nil && rec.Origin == Origin
	})

	// Kuma objects of global's kinds in the zone's cluster: ignored, with a Warning Event.
	route := routeManifest("zroute-"+sfx, mesh, "/")
	_, err = dyn.Resource(routeGVR()).Create(ctx, route, metav1.CreateOptions{})
	require.NoError(t, err)
	meshes := dyn.Resource(schema.GroupVersionResource{Group: "kuma.io", Version: "v1alpha1", Resource: "meshes"})
	_, err = meshes.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kuma.io/v1alpha1", "kind": "Mesh", "metadata": map[string]any{"name": mesh}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = dyn.Resource(routeGVR()).Delete(context.Background(), route.GetName(), metav1.DeleteOptions{})
		_ = meshes.Delete(context.Background(), mesh, metav1.DeleteOptions{})
	})
	for _, name := range []string{route.GetName(), mesh} {
		eventually(t, "a Warning Event on "+name, func() bool {
			evs, err := c.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
			require.NoError(t, err)
			for _, e := range evs.Items {
				if e.Type == corev1.EventTypeWarning && e.Reason == ReasonGlobalResource &&
					strings.Contains(e.Message, "create, change and delete it on the global control plane") {
					return true
				}
			}
			return false
		})
	}
	_, err = st.Get(ctx, store.Key{Kind: "MeshGatewayRoute", Mesh: mesh, Name: route.GetName()})
	require.ErrorIs(t, err, store.ErrNotFound, "a route from the zone's cluster must not reach the store")
	rec, err := st.Get(ctx, meshKey)
	require.NoError(t, err)
	require.Equal(t, "global", rec.Origin, "global's Mesh record is not replaced by the cluster's")
	u, err := dyn.Resource(routeGVR()).Get(ctx, route.GetName(), metav1.GetOptions{})
	require.NoError(t, err)
	require.Nil(t, validCondition(u), "a refused object gets no Valid condition from a zone")

	// Global deletes the mesh: the Dataplane goes with it.
	_, err = st.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: meshKey, ExpectedVersion: rec.Version}}})
	require.NoError(t, err)
	eventually(t, "the Dataplane gone with its mesh", func() bool {
		_, err := st.Get(ctx, dpKey)
		return err != nil
	})
}
