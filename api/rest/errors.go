package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// storeRetryAfterSeconds is the Retry-After of a 503 while the store is unreachable: about the
// interval of the store health check (controlplane/storehealth.go).
const storeRetryAfterSeconds = 2

// apiError is a failure the handler has classified: the status and Kuma's error body.
type apiError struct {
	status  int
	title   string
	details string
	causes  []wire.Cause
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.title, e.details) }

func notFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, title: "Not found", details: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, title: "Bad request", details: fmt.Sprintf(format, args...)}
}

func preconditionFailed(format string, args ...any) *apiError {
	return &apiError{status: http.StatusPreconditionFailed, title: "Precondition failed", details: fmt.Sprintf(format, args...)}
}

// invalid reports every violation at once, as Kuma does, so a client fixes them in one pass.
func invalid(errs api.ErrorList) *apiError {
	causes := make([]wire.Cause, len(errs))
	for i, e := range errs {
		causes[i] = wire.Cause{Field: e.Field, Message: e.Message, Resource: e.Resource, Line: e.Line}
	}
	return &apiError{status: http.StatusBadRequest, title: "Could not process a resource",
		details: "Resource is not valid", causes: causes}
}

// fieldInvalid is a single-cause 400 about one field of the request.
func fieldInvalid(field, format string, args ...any) *apiError {
	return invalid(api.ErrorList{{Field: field, Message: fmt.Sprintf(format, args...)}})
}

// fail writes err; anything not already classified is the server's fault and is logged.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &tooBig):
		ae = &apiError{status: http.StatusRequestEntityTooLarge, title: "Request body too large",
			details: fmt.Sprintf("the body exceeds %d bytes", tooBig.Limit)}
	case errors.Is(err, store.ErrUnavailable):
		// Not this request's fault nor a bug: the database is down or restarting. Say so, and
		// when to come back, rather than a 500 that reads as a crash.
		h.log.Warn("api request failed: the store is unreachable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(storeRetryAfterSeconds))
		ae = &apiError{status: http.StatusServiceUnavailable, title: "Store unavailable",
			details: fmt.Sprintf("the store is unreachable: %v; retry", err)}
	default:
		h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, title: "Internal error", details: err.Error()}
	}
	writeError(w, r, ae)
}

func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	writeValue(w, r, e.status, wire.Error{Title: e.title, Details: e.details, Causes: e.causes})
}
