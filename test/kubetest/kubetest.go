// Package kubetest connects tests to the throwaway kube-apiserver that .ci/kube.sh starts: a
// real API server and etcd, with no kubelet, scheduler or controller-manager. Pods never run,
// so tests create Pod objects and set status.podIP themselves; nothing garbage-collects owned
// objects or finishes deleting namespaces.
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// EnvKubeconfig names the variable `.ci/kube.sh start` exports: an admin kubeconfig.
const EnvKubeconfig = "MESHGATE_TEST_KUBE_KUBECONFIG"

// Config returns a rest.Config for the test API server's admin (group system:masters). Without
// the server the test fails rather than skips, so CI cannot pass without having run it; set
// MESHGATE_SKIP_KUBE=1 to skip on a machine that cannot build kube-apiserver.
func Config(t testing.TB) *rest.Config {
	t.Helper()
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		if os.Getenv("MESHGATE_SKIP_KUBE") == "1" {
			t.Skip("MESHGATE_SKIP_KUBE=1: tests against kube-apiserver skipped")
		}
		t.Fatal(EnvKubeconfig + " is not set. Start a throwaway kube-apiserver with\n" +
			"\teval \"$(.ci/kube.sh start)\"\n" +
			"(the first run builds it: about 8 minutes; stop it with .ci/kube.sh stop), or set\n" +
			"MESHGATE_SKIP_KUBE=1 to skip these tests.")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	require.NoError(t, err, "load the kubeconfig in %s=%s", EnvKubeconfig, path)
	// client-go's default of 5 requests per second would make tests that create a few dozen
	// objects wait on the client rather than on the server.
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.Timeout = 30 * time.Second
	return cfg
}

// KubeconfigPath is the admin kubeconfig file, for a control plane under test to connect
// with (--kubeconfig); it fails or skips as Config does without the server.
func KubeconfigPath(t testing.TB) string {
	t.Helper()
	Config(t)
	return os.Getenv(EnvKubeconfig)
}

// Client returns a typed clientset for the test API server's admin.
func Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(Config(t))
	require.NoError(t, err, "clientset for the test API server")
	return c
}

// Namespace creates a namespace of its own for t, so tests sharing the one API server do not
// see each other's objects, and deletes it when t ends. Without a controller-manager the
// namespace then stays Terminating with its objects in it; that is harmless, as the server is
// thrown away after the run.
func Namespace(t testing.TB, c kubernetes.Interface) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "meshgate-test-" + hex.EncodeToString(b)},
	}, metav1.CreateOptions{})
	require.NoError(t, err, "create a namespace for the test")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Logf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}
