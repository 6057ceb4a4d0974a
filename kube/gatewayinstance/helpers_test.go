package gatewayinstance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/test/kubetest"
)

const (
	testImage     = "example.test/meshgate:test"
	testCPAddress = "https://meshgate.meshgate-system.svc:5682"
	waitTimeout   = 30 * time.Second
)

// env is one test's view of the API server: its own namespace and a controller limited to it,
// so tests of other engineers sharing the server never meet its instances.
type env struct {
	t    *testing.T
	ctx  context.Context
	kube kubernetes.Interface
	dyn  dynamic.Interface
	ns   string
	ca   []byte
}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	kubetest.InstallCRDs(t)
	kube := kubetest.Client(t)
	dyn, err := dynamic.NewForConfig(kubetest.Config(t))
	require.NoError(t, err)
	e := &env{t: t, ctx: t.Context(), kube: kube, dyn: dyn, ns: kubetest.Namespace(t, kube), ca: testCA(t)}

	opts := Options{
		Client: kube, Dynamic: dyn, Image: testImage, ControlPlaneAddress: testCPAddress,
		ControlPlaneCA: e.ca, Namespace: e.ns, Resync: time.Minute,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, m := range mutate {
		m(&opts)
	}
	ctrl, err := New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "controller Run")
		case <-time.After(waitTimeout):
			t.Errorf("controller Run did not return within %v of its context ending", waitTimeout)
		}
	})
	return e
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// testCA is a throwaway self-signed CA certificate: the controller only passes it on.
func testCA(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "meshgate test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func fromYAML(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(doc))
	require.NoError(t, err, "manifest:\n%s", doc)
	u := &unstructured.Unstructured{}
	require.NoError(t, u.UnmarshalJSON(j))
	return u
}

// createInstance creates a MeshGatewayInstance in the test's namespace.
func (e *env) createInstance(doc string) *unstructured.Unstructured {
	e.t.Helper()
	u := fromYAML(e.t, doc)
	u.SetNamespace(e.ns)
	got, err := e.dyn.Resource(InstanceGVR).Namespace(e.ns).Create(e.ctx, u, metav1.CreateOptions{})
	require.NoError(e.t, err, "create MeshGatewayInstance %s", u.GetName())
	return got
}

// createGateway creates a cluster-scoped MeshGateway and deletes it when the test ends.
func (e *env) createGateway(doc string) *unstructured.Unstructured {
	e.t.Helper()
	u := fromYAML(e.t, doc)
	got, err := e.dyn.Resource(GatewayGVR).Create(e.ctx, u, metav1.CreateOptions{})
	require.NoError(e.t, err, "create MeshGateway %s", u.GetName())
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		err := e.dyn.Resource(GatewayGVR).Delete(ctx, u.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			e.t.Errorf("delete MeshGateway %s: %v", u.GetName(), err)
		}
	})
	return got
}

// eventually polls check until it reports done, failing with its last description after
// waitTimeout.
func (e *env) eventually(what string, check func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := check()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("%s: not within %v; last seen: %s", what, waitTimeout, last)
}

// readyCondition returns the instance's Ready condition (nil without one).
func (e *env) readyCondition(name string) (map[string]any, *unstructured.Unstructured) {
	u, err := e.dyn.Resource(InstanceGVR).Namespace(e.ns).Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, nil
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == ConditionReady {
			return m, u
		}
	}
	return nil, u
}

// waitReady waits for the Ready condition with status and reason, observed at the instance's
// current generation, and returns it.
func (e *env) waitReady(name, status, reason string) map[string]any {
	e.t.Helper()
	var cond map[string]any
	e.eventually(fmt.Sprintf("MeshGatewayInstance %s Ready=%s reason %s", name, status, reason), func() (bool, string) {
		c, u := e.readyCondition(name)
		if u == nil {
			return false, "instance not found"
		}
		cond = c
		ok := c != nil && c["status"] == status && c["reason"] == reason && c["observedGeneration"] == u.GetGeneration()
		return ok, fmt.Sprintf("condition %v at generation %d", c, u.GetGeneration())
	})
	return cond
}

func (e *env) deployment(name string) (*appsv1.Deployment, error) {
	return e.kube.AppsV1().Deployments(e.ns).Get(e.ctx, name, metav1.GetOptions{})
}

func (e *env) service(name string) (*corev1.Service, error) {
	return e.kube.CoreV1().Services(e.ns).Get(e.ctx, name, metav1.GetOptions{})
}

func (e *env) waitDeployment(name string, ok func(*appsv1.Deployment) bool) *appsv1.Deployment {
	e.t.Helper()
	var got *appsv1.Deployment
	e.eventually("Deployment "+name, func() (bool, string) {
		d, err := e.deployment(name)
		if err != nil {
			return false, err.Error()
		}
		got = d
		return ok(d), fmt.Sprintf("replicas %d, template %+v", *d.Spec.Replicas, d.Spec.Template.Spec.Containers)
	})
	return got
}

func (e *env) waitService(name string, ok func(*corev1.Service) bool) *corev1.Service {
	e.t.Helper()
	var got *corev1.Service
	e.eventually("Service "+name, func() (bool, string) {
		s, err := e.service(name)
		if err != nil {
			return false, err.Error()
		}
		got = s
		return ok(s), fmt.Sprintf("type %s, ports %+v, uid %s", s.Spec.Type, s.Spec.Ports, s.UID)
	})
	return got
}

func (e *env) waitGone(name string) {
	e.t.Helper()
	e.eventually("Deployment and Service "+name+" deleted", func() (bool, string) {
		_, derr := e.deployment(name)
		_, serr := e.service(name)
		return apierrors.IsNotFound(derr) && apierrors.IsNotFound(serr),
			fmt.Sprintf("Deployment: %v; Service: %v", derr, serr)
	})
}

// requireAbsent checks that neither a Deployment nor a Service exists for name.
func (e *env) requireAbsent(name string) {
	e.t.Helper()
	_, err := e.deployment(name)
	require.True(e.t, apierrors.IsNotFound(err), "Deployment %s must not exist: %v", name, err)
	_, err = e.service(name)
	require.True(e.t, apierrors.IsNotFound(err), "Service %s must not exist: %v", name, err)
}

// waitWarningEvent waits for a Warning Event about the instance with reason.
func (e *env) waitWarningEvent(name, reason string) corev1.Event {
	e.t.Helper()
	var found corev1.Event
	e.eventually("Warning Event "+reason+" for "+name, func() (bool, string) {
		evs, err := e.kube.CoreV1().Events(e.ns).List(e.ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + name,
		})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, ev := range evs.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == reason && ev.InvolvedObject.Kind == "MeshGatewayInstance" {
				found = ev
				return true, ""
			}
			seen = append(seen, ev.Type+"/"+ev.Reason)
		}
		return false, "events: " + strings.Join(seen, ", ")
	})
	return found
}

func servicePorts(s *corev1.Service) []int32 {
	var out []int32
	for _, p := range s.Spec.Ports {
		out = append(out, p.Port)
	}
	return out
}

func containerPorts(d *appsv1.Deployment) []int32 {
	var out []int32
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		out = append(out, p.ContainerPort)
	}
	return out
}
