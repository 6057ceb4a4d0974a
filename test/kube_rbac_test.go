package test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/meshgate/meshgate/api/kube"
	"github.com/meshgate/meshgate/test/kubetest"
)

// installedIdentity creates the ServiceAccount and RBAC `meshgate install control-plane` prints
// for namespace w.ns, and returns a kubeconfig that authenticates as that ServiceAccount: a
// control plane started with it has exactly the permissions the printed manifests grant. The
// cluster-wide ClusterRole and binding, named `meshgate` in the output, get this test's name,
// and the webhook configuration the ClusterRole may patch is hookName.
func installedIdentity(t *testing.T, w *kubeWorld, suffix, hookName string) string {
	t.Helper()
	objs, err := kube.ControlPlane(kube.ControlPlaneOptions{Namespace: w.ns, Image: "meshgate/meshgate:test", AdminTokenSecret: "admin"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rbac := func(kind string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: kind}
	}
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o}
		var gvr schema.GroupVersionResource
		switch u.GetKind() {
		case "ServiceAccount":
			gvr = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
		case "Role":
			gvr = rbac("roles")
		case "RoleBinding":
			gvr = rbac("rolebindings")
		case "ClusterRole":
			gvr = rbac("clusterroles")
			u.SetName("meshgate-test-" + suffix)
			rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
			for _, r := range rules {
				m := r.(map[string]any)
				if names, ok := m["resourceNames"].([]any); ok && len(names) == 1 && names[0] == kube.WebhookConfigurationName {
					m["resourceNames"] = []any{hookName}
				}
			}
			require.NoError(t, unstructured.SetNestedSlice(u.Object, rules, "rules"))
		case "ClusterRoleBinding":
			gvr = rbac("clusterrolebindings")
			u.SetName("meshgate-test-" + suffix)
			require.NoError(t, unstructured.SetNestedField(u.Object, "meshgate-test-"+suffix, "roleRef", "name"))
		default:
			continue
		}
		ri := w.dyn.Resource(gvr).Namespace(u.GetNamespace())
		_, err := ri.Create(ctx, u, metav1.CreateOptions{})
		require.NoError(t, err, "create %s %s", u.GetKind(), u.GetName())
		if u.GetNamespace() == "" {
			name, res := u.GetName(), w.dyn.Resource(gvr)
			t.Cleanup(func() {
				if err := res.Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					t.Logf("delete %s: %v", name, err)
				}
			})
		}
	}
	admin := kubetest.Config(t)
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = admin.Host
	cluster.CertificateAuthority, cluster.CertificateAuthorityData = admin.CAFile, admin.CAData
	cfg.Clusters["test"] = cluster
	user := clientcmdapi.NewAuthInfo()
	user.Token = w.token(kube.Name)
	cfg.AuthInfos["meshgate"] = user
	kctx := clientcmdapi.NewContext()
	kctx.Cluster, kctx.AuthInfo = "test", "meshgate"
	cfg.Contexts["meshgate"] = kctx
	cfg.CurrentContext = "meshgate"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	_, err = os.Stat(path)
	require.NoError(t, err)
	return path
}
