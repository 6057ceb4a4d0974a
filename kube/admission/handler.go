// Package admission is meshgate's validating admission webhook: it refuses invalid kuma.io
// objects (and Kuma mesh Secrets) when they are applied, with the messages `meshgate validate`
// prints for the same object, so `kubectl apply` fails where the file would fail validation.
//
// The handler is plain net/http. It is served by the control plane's HTTPS API server (port
// 5682, the certificate whose CA the control plane patches into the webhook configuration's
// caBundle), which owns the timeouts: the API server calls with the configuration's
// timeoutSeconds (5 s in `meshgate install control-plane`) and gives up after it, so that
// server needs a read header timeout of a few seconds and read and write timeouts above 5 s.
// The handler itself bounds the body (MaxBodyBytes) and the Check it runs (the `timeout` query
// parameter the API server adds to every call).
package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/meshgate/meshgate/api/kube"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Path is where the control plane serves the webhook, as the printed webhook configuration
// says.
const Path = kube.WebhookPath

// MaxBodyBytes bounds an AdmissionReview. The API server stores objects of at most about
// 1.5 MiB (etcd's request limit) and reads request bodies of at most 3 MiB; an UPDATE review
// carries the object twice, plus the request's metadata.
const MaxBodyBytes = 8 << 20

// maxCheckTime caps the time a Check may take when the API server's `timeout` is missing or
// larger: an admission call is worth at most that to the API server anyway (its maximum
// timeoutSeconds is 30).
const maxCheckTime = 30 * time.Second

// Options configure Handler.
type Options struct {
	// Check, if set, runs after an object decoded and validated cleanly: the cross-resource
	// checks the control plane can make against what it already holds. Its errors deny the
	// request like validation errors. nil: no check.
	Check func(ctx context.Context, obj api.Object) api.ErrorList
	// Logger receives denials (Info) and malformed reviews (Warn). nil: slog.Default().
	Logger *slog.Logger
}

// Handler serves admission.k8s.io/v1 AdmissionReviews (POST, JSON) for a
// ValidatingWebhookConfiguration. Mount it at Path.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &handler{check: o.Check, log: o.Logger}
}

type handler struct {
	check func(ctx context.Context, obj api.Object) api.ErrorList
	log   *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "an AdmissionReview is POSTed", http.StatusMethodNotAllowed)
		return
	}
	review, status, err := readReview(w, r)
	if err != nil {
		h.log.Warn("malformed admission review", "remote", r.RemoteAddr, "error", err)
		http.Error(w, err.Error(), status)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout(r))
	defer cancel()
	resp := h.review(ctx, review.Request)
	resp.UID = review.Request.UID
	out, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
	if err != nil {
		http.Error(w, "cannot encode the AdmissionReview response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// readReview reads and checks the body. The status is the HTTP status to answer with when err
// is not nil.
func readReview(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("AdmissionReview larger than %d bytes", MaxBodyBytes)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading the AdmissionReview: %w", err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("not an AdmissionReview: %w", err)
	}
	if gvk := review.GroupVersionKind(); gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		return nil, http.StatusBadRequest, fmt.Errorf("apiVersion %q, kind %q: want %s AdmissionReview (admissionReviewVersions: [v1])",
			review.APIVersion, review.Kind, admissionv1.SchemeGroupVersion)
	}
	if review.Request == nil || review.Request.UID == "" {
		return nil, http.StatusBadRequest, errors.New("AdmissionReview without a request uid")
	}
	return &review, 0, nil
}

// callTimeout is the API server's `timeout` for this call (it adds the webhook's
// timeoutSeconds to the URL), capped at maxCheckTime.
func callTimeout(r *http.Request) time.Duration {
	d, err := time.ParseDuration(r.URL.Query().Get("timeout"))
	if err != nil || d <= 0 || d > maxCheckTime {
		return maxCheckTime
	}
	return d
}
