package tokens

import "errors"

// Verification failures. Verify wraps one of them with the detail a user needs to fix it, so
// callers map them to a status with errors.Is and show the message as is. Any other error from
// Verify means the token could not be checked (the store is unreachable), not that it is bad.
var (
	// ErrMissing: no token was presented.
	ErrMissing = errors.New("no dataplane token")
	// ErrInvalid: the token is not one this control plane signed for a dataplane (malformed,
	// bad signature, unknown or rotated-out key, wrong audience, missing claims).
	ErrInvalid = errors.New("invalid dataplane token")
	// ErrExpired: a genuine token past its expiry.
	ErrExpired = errors.New("dataplane token expired")
	// ErrRevoked: a genuine token whose id is on its mesh's revocation list.
	ErrRevoked = errors.New("dataplane token revoked")
	// ErrWrongDataplane: a genuine, current token issued for another dataplane or another mesh.
	ErrWrongDataplane = errors.New("dataplane token is for another dataplane")
)

// ErrUnknownMesh: Issue or Revoke named a mesh that does not exist. Tokens are only issued
// for existing meshes: a token issued ahead of its mesh would otherwise outlive no deletion.
var ErrUnknownMesh = errors.New("no such mesh")

// ErrBadRequest: Issue or Revoke was asked for something it cannot do (an empty or malformed
// mesh or name, a validity out of range); the request, not the control plane, is at fault.
var ErrBadRequest = errors.New("bad token request")
