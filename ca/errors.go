package ca

import (
	"errors"
	"fmt"
)

var (
	// ErrMTLSDisabled: the mesh has no enabled CA backend.
	ErrMTLSDisabled = errors.New("mTLS is not enabled")
	// ErrUnsupportedBackend: a backend type this version cannot run yet.
	ErrUnsupportedBackend = errors.New("unsupported CA backend type")

	// Problems with a CA certificate or key, from a provided backend or a stored builtin root.
	ErrKeyMismatch = errors.New("key does not match the CA certificate")
	ErrNotCA       = errors.New("not a CA certificate")
	ErrNoCertSign  = errors.New("CA certificate lacks the keyCertSign key usage")
	ErrExpired     = errors.New("CA certificate has expired")
	ErrNotYetValid = errors.New("CA certificate is not yet valid")
	ErrBrokenChain = errors.New("CA certificate chain is broken")
	ErrNoRoot      = errors.New("CA certificate chain does not end with a self-signed root")
)

// BackendError is any failure of one mesh CA backend; its message names the mesh, the backend
// and its type, so that an operator can find the Mesh field to fix.
type BackendError struct {
	Mesh    string
	Backend string
	Type    string
	Err     error
}

func (e *BackendError) Error() string {
	return fmt.Sprintf("mesh %q: CA backend %q (%s): %v", e.Mesh, e.Backend, e.Type, e.Err)
}

func (e *BackendError) Unwrap() error { return e.Err }
