package admission

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/api/kube"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/test/kubetest"
)

var routesGVR = schema.GroupVersionResource{Group: kube.Group, Version: kube.Version, Resource: "meshgatewayroutes"}

// routeYAML is a MeshGatewayRoute as a user writes it; pathValue "relative" makes it invalid.
func routeYAML(name, label, pathValue string) string {
	return `apiVersion: kuma.io/v1alpha1
kind: MeshGatewayRoute
mesh: default
metadata:
  name: ` + name + `
  labels:
    meshgate.io/webhook-test: "` + label + `"
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
                value: ` + pathValue + `
          backends:
            - destination:
                kuma.io/service: demo
`
}

// TestWebhookWithAPIServer registers the handler with the real kube-apiserver, with the
// webhooks `meshgate install control-plane` prints, and checks that creating an invalid
// MeshGatewayRoute fails with the `meshgate validate` message, and a valid one is created; and
// the same for Kuma mesh Secrets in the control plane's namespace.
func TestWebhookWithAPIServer(t *testing.T) {
	cfg := kubetest.Config(t)
	client := kubetest.Client(t)
	kubetest.InstallCRDs(t)
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	suffix := randomSuffix(t)

	var calls atomic.Int32
	// The longest time a Check was given: the API server's `timeout` (the configuration's
	// timeoutSeconds) bounds it.
	var longestCheck atomic.Int64
	h := Handler(Options{Logger: testLogger(t), Check: func(ctx context.Context, obj api.Object) api.ErrorList {
		if d, ok := ctx.Deadline(); ok && int64(time.Until(d)) > longestCheck.Load() {
			longestCheck.Store(int64(time.Until(d)))
		}
		return nil
	}})
	mux := http.NewServeMux()
	mux.Handle(Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	caPEM, cert := servingCert(t)
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Config.ReadTimeout = 10 * time.Second
	srv.Config.WriteTimeout = 10 * time.Second
	srv.StartTLS()
	t.Cleanup(srv.Close)
	require.True(t, strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:"), srv.Listener.Addr().String())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	namespace := kubetest.Namespace(t, client)
	vwc := webhookConfiguration(t, namespace, srv.URL+Path, caPEM, suffix)
	webhooks := client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	_, err = webhooks.Create(ctx, vwc, metav1.CreateOptions{})
	require.NoError(t, err, "create ValidatingWebhookConfiguration %s", vwc.Name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := webhooks.Delete(ctx, vwc.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete ValidatingWebhookConfiguration %s: %v", vwc.Name, err)
		}
	})

	routes := dyn.Resource(routesGVR)
	create := func(name, yamlText string, dryRun bool) error {
		var obj map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(yamlText), &obj))
		opts := metav1.CreateOptions{}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		_, err := routes.Create(ctx, &unstructured.Unstructured{Object: obj}, opts)
		if err == nil && !dryRun {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := routes.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
					t.Errorf("delete MeshGatewayRoute %s: %v", name, err)
				}
			})
		}
		return err
	}

	invalidName := "webhook-invalid-" + suffix
	invalid := routeYAML(invalidName, suffix, "relative")
	// The API server loads webhook configurations asynchronously: dry runs of the invalid route
	// succeed until the webhook is in effect.
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	for {
		err := create(invalidName, invalid, true)
		if err != nil && strings.Contains(err.Error(), "denied the request") {
			break
		}
		require.Nil(t, waitCtx.Err(), "the webhook was not in effect within 30s (last dry run: %v, webhook calls: %d)", err, calls.Load())
		time.Sleep(200 * time.Millisecond)
	}

	err = create(invalidName, invalid, false)
	require.Error(t, err, "the API server created an invalid MeshGatewayRoute")
	status, ok := err.(apierrors.APIStatus)
	require.True(t, ok, "%T: %v", err, err)
	assert.EqualValues(t, http.StatusUnprocessableEntity, status.Status().Code)
	assert.Equal(t, `admission webhook "`+kube.WebhookKuma+`" denied the request: meshgatewayroutes/`+invalidName+
		`: MeshGatewayRoute default/`+invalidName+`: conf.http.rules[0].matches[0].path.value: must be an absolute path`,
		err.Error())
	// The same manifest in a file: what `meshgate validate` prints after `file:line: `.
	_, fileErrs := api.Decode("route.yaml", []byte(invalid))
	require.Len(t, fileErrs, 1)
	assert.Contains(t, err.Error(), ": "+fileErrs[0].Unlocated())
	_, err = routes.Get(ctx, invalidName, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the denied route does not exist: %v", err)

	before := calls.Load()
	validName := "webhook-valid-" + suffix
	require.NoError(t, create(validName, routeYAML(validName, suffix, "/"), false), "create a valid MeshGatewayRoute")
	assert.Greater(t, calls.Load(), before, "the valid route went through the webhook")
	assert.True(t, longestCheck.Load() > 0 && time.Duration(longestCheck.Load()) <= kube.WebhookTimeoutSeconds*time.Second,
		"Check ran within the API server's timeout, got %v", time.Duration(longestCheck.Load()))

	// An update that breaks the route is refused as well.
	got, err := routes.Get(ctx, validName, metav1.GetOptions{})
	require.NoError(t, err)
	var broken map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(routeYAML(validName, suffix, "relative")), &broken))
	update := &unstructured.Unstructured{Object: broken}
	update.SetResourceVersion(got.GetResourceVersion())
	_, err = routes.Update(ctx, update, metav1.UpdateOptions{})
	require.Error(t, err, "the API server accepted an invalid update")
	assert.Equal(t, `admission webhook "`+kube.WebhookKuma+`" denied the request: meshgatewayroutes/`+validName+
		`: MeshGatewayRoute default/`+validName+`: conf.http.rules[0].matches[0].path.value: must be an absolute path`,
		err.Error())

	// Kuma mesh Secrets in the control plane's namespace are checked; other Secrets never reach
	// the webhook (its matchConditions): the control plane writes its own state there before it
	// serves the webhook.
	secrets := client.CoreV1().Secrets(namespace)
	kumaSecret := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kuma.io/mesh": "default"}},
			Type:       "system.kuma.io/secret", Data: data,
		}
	}
	_, err = secrets.Create(ctx, kumaSecret("empty", nil), metav1.CreateOptions{})
	require.Error(t, err, "the API server created a Kuma Secret without data")
	assert.Equal(t, `admission webhook "`+kube.WebhookSecrets+`" denied the request: secrets/empty.`+namespace+
		`: Secret default/empty: data: cannot be empty`, err.Error())
	before = calls.Load()
	_, err = secrets.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "state"}}, metav1.CreateOptions{})
	require.NoError(t, err, "an Opaque Secret")
	assert.Equal(t, before, calls.Load(), "an Opaque Secret does not reach the webhook")
	_, err = secrets.Create(ctx, kumaSecret("tls", map[string][]byte{"value": []byte("hello")}), metav1.CreateOptions{})
	require.NoError(t, err, "a valid Kuma Secret")
	assert.Greater(t, calls.Load(), before, "the Kuma Secret went through the webhook")
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// servingCert returns a self-signed CA certificate (PEM, the caBundle) and a serving
// certificate it signed for 127.0.0.1, generated per test.
func servingCert(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "meshgate webhook test CA"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// webhookConfiguration is the ValidatingWebhookConfiguration of `meshgate install
// control-plane` for a control plane in namespace, as printed, calling url with caBundle
// instead of the Service (no pod runs here). The kuma.io webhook selects only objects labelled
// meshgate.io/webhook-test=selector: the API server is shared, and other tests create invalid
// objects on purpose. The secrets webhook is confined to namespace already.
func webhookConfiguration(t *testing.T, namespace, url string, caBundle []byte, selector string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	objs, err := kube.ControlPlane(kube.ControlPlaneOptions{Namespace: namespace, Image: "meshgate:test", AdminTokenSecret: "token"})
	require.NoError(t, err)
	var printed []byte
	for _, o := range objs {
		if o["kind"] == "ValidatingWebhookConfiguration" {
			printed, err = kube.WriteDocuments([]map[string]any{o})
			require.NoError(t, err)
		}
	}
	require.NotNil(t, printed, "install control-plane prints a ValidatingWebhookConfiguration")
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	require.NoError(t, yaml.UnmarshalStrict(bytes.TrimPrefix(printed, []byte("---\n")), &vwc))
	require.Len(t, vwc.Webhooks, 2)
	vwc.Name = "meshgate-webhook-test-" + selector
	for i := range vwc.Webhooks {
		w := &vwc.Webhooks[i]
		require.NotNil(t, w.ClientConfig.Service, w.Name)
		assert.Equal(t, Path, *w.ClientConfig.Service.Path, "the manifests call the handler's path")
		w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle}
	}
	require.Equal(t, kube.WebhookKuma, vwc.Webhooks[0].Name)
	vwc.Webhooks[0].ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"meshgate.io/webhook-test": selector}}
	return &vwc
}
