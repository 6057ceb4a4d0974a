package kubestate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

const (
	// attempts bounds how often a batch that raced another process is tried again.
	attempts = 5
	// parallel bounds the requests a batch has in flight: a batch of thousands of keys is
	// thousands of requests.
	parallel = 8
	// undoTimeout bounds undoing a failed batch, which runs even if the caller gave up.
	undoTimeout = 30 * time.Second
)

// writeStates runs a validated batch, the gate held exclusively: read every entry, check every
// version, then write; a batch that raced another process is undone and tried again, up to
// attempts times.
func (s *Store) writeStates(ctx context.Context, writes []store.StateWrite, order []int) ([]int64, error) {
	for n := 1; ; n++ {
		vs, again, err := s.attempt(ctx, writes, order)
		if !again || n == attempts {
			if err != nil {
				return nil, fmt.Errorf("kubestate: %w", err)
			}
			return vs, nil
		}
	}
}

// attempt runs the batch once. again: it raced another writer and was undone completely, so
// it may be tried again from the read (an expected version then fails its check).
func (s *Store) attempt(ctx context.Context, writes []store.StateWrite, order []int) (versions []int64, again bool, err error) {
	cur := make([]entry, len(writes))
	if err := each(len(writes), true, func(i int) error {
		e, err := s.read(ctx, writes[i].Key)
		if err != nil {
			return fmt.Errorf("%s state %q: %w", opOf(writes[i]), writes[i].Key, err)
		}
		cur[i] = e
		return nil
	}); err != nil {
		return nil, false, err
	}
	// Key order, so that with several failing checks the error names the first key.
	for _, i := range order {
		if err := check(writes[i], cur[i]); err != nil {
			return nil, false, err
		}
	}
	done := make([]*undo, len(writes))
	versions = make([]int64, len(writes))
	err = each(len(writes), true, func(i int) error {
		var err error
		done[i], versions[i], err = s.write(ctx, writes[i], cur[i])
		return err
	})
	if err == nil {
		return versions, false, nil
	}
	if uerr := s.undo(ctx, done); uerr != nil {
		return nil, false, fmt.Errorf("%w; undoing the batch's other writes failed, so it is partly written: %v", err, uerr)
	}
	return nil, errors.Is(err, errRaced), err
}

func opOf(w store.StateWrite) string {
	if w.Delete {
		return "delete"
	}
	return "put"
}

// check applies w's expected version to the entry as read.
func check(w store.StateWrite, e entry) error {
	if w.Delete && w.ExpectedVersion > 0 && !e.exists {
		return backend.StateConflict("delete", w.Key, w.ExpectedVersion, true)
	}
	if !backend.CheckVersion(w.ExpectedVersion, e.version, e.exists) {
		return backend.StateConflict(opOf(w), w.Key, w.ExpectedVersion, false)
	}
	return nil
}

// undo is what a write did, to take it back: before is the entry as read, after the Secret
// written (nil for a delete).
type undo struct {
	key    string
	before entry
	after  *metav1.ObjectMeta
	// version is the version the write gave the entry (0 for a delete).
	version int64
}

// write makes one checked write against the Secret as read: its resourceVersion (or, for a
// creation, its absence) is the precondition, so another process's write in between fails it.
func (s *Store) write(ctx context.Context, w store.StateWrite, e entry) (*undo, int64, error) {
	switch {
	case w.Delete && !e.exists:
		return nil, 0, nil
	case w.Delete:
		err := s.secrets().Delete(ctx, e.secret.Name, preconditions(&e.secret.ObjectMeta))
		if err != nil {
			return nil, 0, writeError("delete", w.Key, err)
		}
		return &undo{key: w.Key, before: e}, 0, nil
	case !e.exists:
		created, err := s.secrets().Create(ctx, s.newSecret(w.Key, w.Value, 1), metav1.CreateOptions{})
		if err != nil {
			return nil, 0, writeError("put", w.Key, err)
		}
		return &undo{key: w.Key, before: e, after: &created.ObjectMeta, version: 1}, 1, nil
	default:
		v := e.version + 1
		updated, err := s.secrets().Update(ctx, withValue(e.secret, w.Value, v), metav1.UpdateOptions{})
		if err != nil {
			return nil, 0, writeError("put", w.Key, err)
		}
		return &undo{key: w.Key, before: e, after: &updated.ObjectMeta, version: v}, v, nil
	}
}

func preconditions(m *metav1.ObjectMeta) metav1.DeleteOptions {
	rv, uid := m.ResourceVersion, m.UID
	return metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv, UID: &uid}}
}

// undo takes back the writes done, best effort: each only if its Secret is still as this
// batch left it (a later write by another process stays). It runs after the caller's context
// is cancelled, with its own deadline.
func (s *Store) undo(ctx context.Context, done []*undo) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	return each(len(done), false, func(i int) error {
		u := done[i]
		if u == nil {
			return nil
		}
		err := s.undoOne(ctx, u)
		if err == nil || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) {
			return nil
		}
		s.log.Warn("state write not undone after its batch failed", "namespace", s.namespace, "key", u.key, "error", err)
		return apiError(fmt.Sprintf("undo state %q", u.key), err)
	})
}

func (s *Store) undoOne(ctx context.Context, u *undo) error {
	switch {
	case u.after == nil: // deleted: create it again, at a new version
		_, err := s.secrets().Create(ctx, s.newSecret(u.key, u.before.value, u.before.version+1), metav1.CreateOptions{})
		return err
	case !u.before.exists: // created
		return s.secrets().Delete(ctx, u.after.Name, preconditions(u.after))
	default: // updated: the old value, at a new version
		sec := withValue(u.before.secret, u.before.value, u.version+1)
		sec.ResourceVersion = u.after.ResourceVersion
		_, err := s.secrets().Update(ctx, sec, metav1.UpdateOptions{})
		return err
	}
}

// each calls fn for 0..n-1, parallel requests at a time. With stop, it starts no more calls
// after one fails and returns that error; without, it calls fn for all and joins the errors.
func each(n int, stop bool, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	var (
		mu   sync.Mutex
		next int
		errs []error
		wg   sync.WaitGroup
	)
	for range min(n, parallel) {
		wg.Go(func() {
			for {
				mu.Lock()
				if next == n || (stop && len(errs) > 0) {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if stop && len(errs) > 0 {
		return errs[0]
	}
	return errors.Join(errs...)
}
