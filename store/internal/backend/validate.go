package backend

import (
	"errors"
	"fmt"

	"github.com/meshgate/meshgate/store"
)

// ErrInvalid marks a malformed request: a caller bug, never a concurrency outcome, so it is
// deliberately neither ErrConflict nor ErrNotFound.
var ErrInvalid = errors.New("invalid request")

// KeyString formats a key the way errors name resources: "Kind mesh/name", or "Kind name"
// for mesh-less kinds.
func KeyString(k store.Key) string {
	if k.Mesh == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Mesh + "/" + k.Name
}

// ValidateKey rejects keys that cannot address a record.
func ValidateKey(k store.Key) error {
	if k.Kind == "" {
		return fmt.Errorf("%w: key %q: kind is empty", ErrInvalid, KeyString(k))
	}
	if k.Name == "" {
		return fmt.Errorf("%w: key %q: name is empty", ErrInvalid, KeyString(k))
	}
	return nil
}

// ValidateApply rejects requests whose outcome would depend on the order of operations: a key
// written twice in one transaction has no single meaning for ExpectedVersion.
func ValidateApply(req store.ApplyRequest) error {
	seen := make(map[store.Key]struct{}, len(req.Puts)+len(req.Deletes))
	check := func(k store.Key) error {
		if err := ValidateKey(k); err != nil {
			return err
		}
		if _, dup := seen[k]; dup {
			return fmt.Errorf("%w: %s appears more than once in one transaction", ErrInvalid, KeyString(k))
		}
		seen[k] = struct{}{}
		return nil
	}
	for _, p := range req.Puts {
		if err := check(p.Key); err != nil {
			return err
		}
		if p.ExpectedVersion < -1 {
			return fmt.Errorf("%w: put %s: expected version %d", ErrInvalid, KeyString(p.Key), p.ExpectedVersion)
		}
	}
	for _, d := range req.Deletes {
		if err := check(d.Key); err != nil {
			return err
		}
		if d.ExpectedVersion < 0 {
			return fmt.Errorf("%w: delete %s: expected version %d", ErrInvalid, KeyString(d.Key), d.ExpectedVersion)
		}
	}
	return nil
}

// ValidateState rejects unusable state writes.
func ValidateState(key string, expectedVersion int64) error {
	if key == "" {
		return fmt.Errorf("%w: state key is empty", ErrInvalid)
	}
	if expectedVersion < -1 {
		return fmt.Errorf("%w: state %q: expected version %d", ErrInvalid, key, expectedVersion)
	}
	return nil
}

// CheckVersion applies the ExpectedVersion rules of store.Put to a stored version (0 when the
// record does not exist).
func CheckVersion(expected, stored int64, exists bool) bool {
	switch {
	case expected == 0:
		return true
	case expected == -1:
		return !exists
	default:
		return exists && stored == expected
	}
}
