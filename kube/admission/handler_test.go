package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

const validRoute = `{"apiVersion":"kuma.io/v1alpha1","kind":"MeshGatewayRoute","mesh":"default",
 "metadata":{"name":"edge","uid":"6c1f","resourceVersion":"12","generation":1,"creationTimestamp":"2026-01-02T03:04:05Z",
  "managedFields":[{"manager":"kubectl","operation":"Apply"}]},
 "spec":{"selectors":[{"match":{"kuma.io/service":"edge-gateway"}}],
  "conf":{"http":{"rules":[{"matches":[{"path":{"match":"PREFIX","value":"/"}}],
   "backends":[{"destination":{"kuma.io/service":"demo"}}]}]}}},
 "status":{"conditions":[{"type":"Valid","status":"True"}]}}`

// invalidRoute's path is relative: validate_route.go's "must be an absolute path".
var invalidRoute = strings.Replace(validRoute, `"value":"/"`, `"value":"relative"`, 1)

const invalidRouteMessage = "meshgatewayroutes/edge: MeshGatewayRoute default/edge: " +
	"conf.http.rules[0].matches[0].path.value: must be an absolute path"

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

func kumaKind(kind string) metav1.GroupVersionKind {
	return metav1.GroupVersionKind{Group: "kuma.io", Version: "v1alpha1", Kind: kind}
}

var secretKind = metav1.GroupVersionKind{Version: "v1", Kind: "Secret"}

func request(op admissionv1.Operation, kind metav1.GroupVersionKind, object string) *admissionv1.AdmissionRequest {
	return &admissionv1.AdmissionRequest{
		UID: "b0c3e2a4-0000-4000-8000-000000000001", Kind: kind, Operation: op,
		Object: runtime.RawExtension{Raw: []byte(object)},
	}
}

func post(t *testing.T, h http.Handler, target string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	return rec
}

func send(t *testing.T, h http.Handler, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	t.Helper()
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	require.NoError(t, err)
	rec := post(t, h, Path+"?timeout=5s", body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), rec.Body.String())
	assert.Equal(t, "admission.k8s.io/v1", review.APIVersion)
	assert.Equal(t, "AdmissionReview", review.Kind)
	require.NotNil(t, review.Response)
	assert.Equal(t, req.UID, review.Response.UID, "the uid is echoed")
	return review.Response
}

func TestHandlerDecides(t *testing.T) {
	secret := func(typ, value string) string {
		return `{"apiVersion":"v1","kind":"Secret","type":"` + typ + `",
		 "metadata":{"name":"tls","labels":{"kuma.io/mesh":"default"}},"data":{"value":"` + value + `"}}`
	}
	deleted := strings.Replace(invalidRoute, `"uid":"6c1f"`, `"uid":"6c1f","deletionTimestamp":"2026-01-02T03:04:06Z"`, 1)
	statusReq := request(admissionv1.Update, kumaKind("MeshGatewayRoute"), invalidRoute)
	statusReq.SubResource = "status"
	namespacedReq := request(admissionv1.Create, kumaKind("MeshGatewayInstance"),
		`{"apiVersion":"kuma.io/v1alpha1","kind":"MeshGatewayInstance","metadata":{"name":"gw"},
		 "spec":{"replicas":0,"tags":{"kuma.io/service":"gw"}}}`)
	namespacedReq.Namespace = "edge"
	secretReq := request(admissionv1.Create, secretKind, secret("system.kuma.io/secret", "!!"))
	secretReq.Namespace = "meshgate-system"

	for _, tc := range []struct {
		name string
		req  *admissionv1.AdmissionRequest
		// code is 0 for an allowed request; message is the whole status.message of a denial.
		code    int32
		message string
	}{
		{name: "valid route, status and managedFields ignored",
			req: request(admissionv1.Create, kumaKind("MeshGatewayRoute"), validRoute)},
		{name: "valid route updated", req: request(admissionv1.Update, kumaKind("MeshGatewayRoute"), validRoute)},
		{name: "invalid route", req: request(admissionv1.Create, kumaKind("MeshGatewayRoute"), invalidRoute),
			code: 422, message: invalidRouteMessage},
		{name: "invalid route updated", req: request(admissionv1.Update, kumaKind("MeshGatewayRoute"), invalidRoute),
			code: 422, message: invalidRouteMessage},
		{name: "undecodable spec",
			req: request(admissionv1.Create, kumaKind("MeshGatewayRoute"),
				`{"apiVersion":"kuma.io/v1alpha1","kind":"MeshGatewayRoute","metadata":{"name":"edge"},"spec":{"conf":{"http":{"rules":"x"}},"bogus":1}}`),
			code: 422,
			message: "meshgatewayroutes/edge: MeshGatewayRoute default/edge: unknown field \"bogus\"\n" +
				"meshgatewayroutes/edge: MeshGatewayRoute default/edge: conf.http.rules: must be a list"},
		{name: "object not JSON", req: request(admissionv1.Create, kumaKind("MeshGatewayRoute"), `[1]`),
			code: 400, message: "the request's object is not a JSON object"},
		{name: "namespaced kind named name.namespace, namespace from the request", req: namespacedReq,
			code: 422, message: "meshgatewayinstances/gw.edge: MeshGatewayInstance default/gw.edge: replicas: must be at least 1"},
		{name: "DELETE is allowed", req: request(admissionv1.Delete, kumaKind("MeshGatewayRoute"), invalidRoute)},
		{name: "an object being deleted may lose its finalizers",
			req: request(admissionv1.Update, kumaKind("MeshGatewayRoute"), deleted)},
		{name: "status subresource is the control plane's", req: statusReq},
		{name: "kuma.io kind meshgate does not serve",
			req: request(admissionv1.Create, kumaKind("ZoneEgress"), `{"kind":"ZoneEgress","spec":{"bogus":1}}`)},
		{name: "invalid Kuma secret", req: secretReq,
			code: 422, message: "secrets/tls.meshgate-system: Secret default/tls: data: must be valid base64"},
		{name: "Kuma secret without data", req: request(admissionv1.Create, secretKind,
			`{"apiVersion":"v1","kind":"Secret","type":"system.kuma.io/secret","metadata":{"name":"tls","namespace":"ns"}}`),
			code: 422, message: "secrets/tls.ns: Secret default/tls: data: cannot be empty"},
		{name: "valid Kuma secret", req: request(admissionv1.Create, secretKind, secret("system.kuma.io/secret", "aGVsbG8="))},
		{name: "other secrets are not Kuma's", req: request(admissionv1.Create, secretKind, secret("Opaque", "!!"))},
		{name: "other groups", req: request(admissionv1.Create, metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, `{}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := send(t, Handler(Options{Logger: testLogger(t)}), tc.req)
			if tc.code == 0 {
				assert.True(t, resp.Allowed, "%+v", resp.Result)
				return
			}
			require.False(t, resp.Allowed)
			require.NotNil(t, resp.Result)
			assert.Equal(t, tc.code, resp.Result.Code)
			assert.Equal(t, metav1.StatusFailure, resp.Result.Status)
			assert.Equal(t, tc.message, resp.Result.Message)
		})
	}
}

// Check runs on what decoded cleanly, with the API server's timeout, and its errors deny.
func TestHandlerCheck(t *testing.T) {
	var checked []string
	var deadline time.Duration
	h := Handler(Options{Logger: testLogger(t), Check: func(ctx context.Context, obj api.Object) api.ErrorList {
		checked = append(checked, obj.GetMeta().DisplayName())
		d, ok := ctx.Deadline()
		require.True(t, ok, "Check runs with a deadline")
		deadline = time.Until(d)
		if obj.GetMeta().Name == "edge" {
			return api.ErrorList{{File: "meshgatewayroutes/edge", Resource: obj.GetMeta().DisplayName(),
				Field: "selectors[0]", Message: "matches no MeshGateway"}}
		}
		return nil
	}})
	resp := send(t, h, request(admissionv1.Create, kumaKind("MeshGatewayRoute"), validRoute))
	require.False(t, resp.Allowed)
	assert.Equal(t, "meshgatewayroutes/edge: MeshGatewayRoute default/edge: selectors[0]: matches no MeshGateway", resp.Result.Message)
	assert.Equal(t, []string{"MeshGatewayRoute default/edge"}, checked)
	assert.True(t, deadline > 0 && deadline <= 5*time.Second, "deadline from ?timeout=5s, got %v", deadline)

	send(t, h, request(admissionv1.Create, kumaKind("MeshGatewayRoute"), invalidRoute))
	assert.Len(t, checked, 1, "an object that failed validation is not checked")

	other := strings.Replace(validRoute, `"name":"edge"`, `"name":"other"`, 1)
	assert.True(t, send(t, h, request(admissionv1.Update, kumaKind("MeshGatewayRoute"), other)).Allowed)
}

func TestHandlerRefusesMalformedReviews(t *testing.T) {
	h := Handler(Options{Logger: testLogger(t)})
	for name, body := range map[string]string{
		"not JSON":       `{`,
		"no request":     `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`,
		"no uid":         `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}`,
		"v1beta1 review": `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := post(t, h, Path, []byte(body))
			assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		})
	}

	rec := post(t, h, Path, bytes.Repeat([]byte(" "), MaxBodyBytes+1))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
}
