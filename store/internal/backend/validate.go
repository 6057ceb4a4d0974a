package backend

import (
	"errors"
	"fmt"
	"slices"
	"strings"

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

// ValidateStateDelete rejects unusable state deletes: -1 (require absence) means nothing.
func ValidateStateDelete(key string, expectedVersion int64) error {
	if key == "" {
		return fmt.Errorf("%w: state key is empty", ErrInvalid)
	}
	if expectedVersion < 0 {
		return fmt.Errorf("%w: delete state %q: expected version %d", ErrInvalid, key, expectedVersion)
	}
	return nil
}

// ValidateStates rejects a batch with an unusable write or a key written twice, and returns
// the order to execute it in: by key, so that concurrent batches over the same keys take
// their row locks in one order and cannot deadlock.
func ValidateStates(writes []store.StateWrite) ([]int, error) {
	seen := make(map[string]struct{}, len(writes))
	order := make([]int, len(writes))
	for i, w := range writes {
		var err error
		if w.Delete {
			err = ValidateStateDelete(w.Key, w.ExpectedVersion)
		} else {
			err = ValidateState(w.Key, w.ExpectedVersion)
		}
		if err != nil {
			return nil, err
		}
		if _, dup := seen[w.Key]; dup {
			return nil, fmt.Errorf("%w: state %q appears more than once in one batch", ErrInvalid, w.Key)
		}
		seen[w.Key] = struct{}{}
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(writes[a].Key, writes[b].Key) })
	return order, nil
}

// StateConflict is the error of a state write whose version check failed: ErrConflict, or
// ErrNotFound for a delete at a version of an absent entry.
func StateConflict(op, key string, expectedVersion int64, deleteMissing bool) error {
	if deleteMissing {
		return fmt.Errorf("%s state %q: expected version %d: %w", op, key, expectedVersion, store.ErrNotFound)
	}
	return fmt.Errorf("%s state %q: expected version %d: %w", op, key, expectedVersion, store.ErrConflict)
}
