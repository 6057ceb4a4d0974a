package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// Errors an *APIError matches with errors.Is, by status.
var (
	ErrNotFound           = errors.New("not found")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrConflict           = errors.New("conflict")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrInvalid            = errors.New("invalid")
)

// APIError is an error response: Kuma's title, details and, for invalid input, every cause.
type APIError struct {
	StatusCode int
	Title      string
	Details    string
	Causes     []wire.Cause
}

func newAPIError(status int, body []byte) *APIError {
	var e wire.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Title == "" && e.Details == "" {
		// Not meshgate's error body (a proxy in between, say): keep what there is.
		text := strings.TrimSpace(string(body))
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		return &APIError{StatusCode: status, Title: http.StatusText(status), Details: text}
	}
	return &APIError{StatusCode: status, Title: e.Title, Details: e.Details, Causes: e.Causes}
}

// Error is the details, then one line per cause.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Details)
	if e.Details == "" {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, e.Title)
	}
	for _, c := range e.Causes {
		b.WriteString("\n  ")
		b.WriteString(CauseString(c))
	}
	return b.String()
}

func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrInvalid:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}

// CauseString formats a cause as meshgate formats every error: `Resource: field: message`.
func CauseString(c wire.Cause) string {
	var parts []string
	for _, p := range []string{c.Resource, c.Field, c.Message} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}
