package kubestate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/meshgate/meshgate/store"
)

// errRaced: a Secret changed between this Store's read and its write, so another process
// wrote it (this Store's own writes are serialised). It is a conflict; a batch that hits it
// is undone and, with unconditional writes, tried again from the read.
var errRaced = fmt.Errorf("changed by another writer while being written: %w", store.ErrConflict)

// apiError wraps an API server error with what was being done, marking an unreachable server
// store.ErrUnavailable and a refusal by RBAC with what meshgate needs.
func apiError(what string, err error) error {
	switch {
	case unreachable(err):
		return fmt.Errorf("%s: %w: %w", what, store.ErrUnavailable, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %w (meshgate needs get, list, create, update and delete on Secrets in its namespace)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// writeError is apiError for a write, with the API server's answers that mean another writer
// got there first (a stale resourceVersion, a Secret created or deleted meanwhile) as errRaced.
func writeError(op, key string, err error) error {
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) {
		return fmt.Errorf("%s state %q: %w (%v)", op, key, errRaced, err)
	}
	return apiError(fmt.Sprintf("%s state %q", op, key), err)
}

// unreachable: the API server did not answer, answered that it cannot serve now (5xx, 429), or
// the request timed out. A refusal of the request itself is not.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code >= 500 || code == http.StatusTooManyRequests ||
			apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err) ||
			apierrors.IsInternalError(err) || apierrors.IsTooManyRequests(err)
	}
	// Not any net.Error: *url.Error is one, whatever it wraps (a bad certificate, a cancelled
	// caller).
	var (
		opErr  *net.OpError
		netErr net.Error
	)
	return errors.As(err, &opErr) || (errors.As(err, &netErr) && netErr.Timeout()) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}
