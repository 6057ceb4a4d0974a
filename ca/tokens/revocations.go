package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/meshgate/meshgate/store"
)

// storedRevocations is the value of tokens/<mesh>/revocations.
type storedRevocations struct {
	// MeshCreated is the incarnation of the mesh the list belongs to; zero in lists stored
	// before incarnations were recorded.
	MeshCreated time.Time      `json:"meshCreated,omitzero"`
	Revoked     []revokedToken `json:"revoked"`
}

// pruneGrace is how long past its token's expiry a revocation is kept: a control plane whose
// clock lags still refuses the token as expired, not as valid.
const pruneGrace = time.Hour

type revokedToken struct {
	ID        string    `json:"id"`
	RevokedAt time.Time `json:"revokedAt"`
}

type revocationList struct {
	ids         map[string]bool
	version     int64
	meshCreated time.Time
	fetched     time.Time
}

// revocations caches each mesh's revocation list for ttl. The list changes rarely and is read
// on every xDS connect, so this process sees its own revocations at once and another control
// plane's within ttl. Only meshes whose keys verified a token get here, so the map is bounded
// by the real meshes.
type revocations struct {
	store StateStore
	// pruner takes the writes that prune (Options.Pruner); never nil.
	pruner StateStore
	now    func() time.Time
	ttl    time.Duration

	mu    sync.Mutex
	lists map[string]*revocationList
}

func newRevocations(s, pruner StateStore, now func() time.Time, ttl time.Duration) *revocations {
	if pruner == nil {
		pruner = s
	}
	return &revocations{store: s, pruner: pruner, now: now, ttl: ttl, lists: map[string]*revocationList{}}
}

func (r *revocations) isRevoked(ctx context.Context, mesh, id string) (bool, error) {
	l, err := r.list(ctx, mesh)
	if err != nil {
		return false, err
	}
	return l.ids[id], nil
}

// list returns the mesh's list, read afresh when the cached one is older than ttl.
func (r *revocations) list(ctx context.Context, mesh string) (*revocationList, error) {
	return r.within(ctx, mesh, r.ttl)
}

// within is list, reading afresh a list older than maxAge.
func (r *revocations) within(ctx context.Context, mesh string, maxAge time.Duration) (*revocationList, error) {
	r.mu.Lock()
	l := r.lists[mesh]
	r.mu.Unlock()
	if l == nil || r.now().Sub(l.fetched) >= maxAge {
		stored, version, err := r.read(ctx, mesh)
		if l != nil && errors.Is(err, store.ErrUnavailable) {
			// The store is out of reach: the revocations learned before still apply, and
			// tokens not on the list stay accepted, so known dataplanes can reconnect
			// through an outage. fetched stays, so the next call asks the store again.
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		l = r.cache(mesh, stored, version)
	}
	return l, nil
}

// revoke adds id to the mesh's list, for the mesh incarnation created at created: the list of
// an earlier incarnation is dropped, and so are revocations of tokens that have expired
// anyway (pruned counts them) when this control plane prunes (r.pruner lets it: among
// replicas, the lease holder). Writers on other control planes are caught by the expected
// version and the write is retried on the fresh list.
func (r *revocations) revoke(ctx context.Context, mesh, id string, created time.Time) (added bool, pruned int, err error) {
	const attempts = 5
	pruning := true
	for range attempts {
		stored, version, err := r.read(ctx, mesh)
		if err != nil {
			return false, 0, err
		}
		if !stored.MeshCreated.IsZero() && !sameMesh(stored.MeshCreated, created) {
			stored.Revoked = nil // an earlier mesh's list: its tokens are dead anyway
		}
		for _, t := range stored.Revoked {
			if t.ID == id {
				r.cache(mesh, stored, version)
				return false, 0, nil
			}
		}
		stored.MeshCreated = created.UTC()
		pruned = 0
		if pruning {
			stored.Revoked, pruned = prune(stored.Revoked, r.now())
		}
		stored.Revoked = append(stored.Revoked, revokedToken{ID: id, RevokedAt: r.now().UTC()})
		sort.Slice(stored.Revoked, func(i, j int) bool { return stored.Revoked[i].ID < stored.Revoked[j].ID })
		raw, err := json.Marshal(stored)
		if err != nil {
			return false, 0, err
		}
		expect := version
		if expect == 0 {
			expect = -1 // the list does not exist yet: create it, unless someone else just did
		}
		st := r.store
		if pruned > 0 {
			st = r.pruner
		}
		written, err := st.PutState(ctx, revocationsState(mesh), raw, expect)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if errors.Is(err, store.ErrFenced) {
			pruning = false // another replica holds the lease: it prunes
			continue
		}
		if err != nil {
			return false, 0, fmt.Errorf("storing the token revocations of mesh %q: %w", mesh, err)
		}
		r.cache(mesh, stored, written)
		return true, pruned, nil
	}
	return false, 0, fmt.Errorf("storing the token revocations of mesh %q: still conflicting after %d attempts: %w", mesh, attempts, store.ErrConflict)
}

// prune drops the revocations of tokens whose id says they expired over pruneGrace ago.
func prune(list []revokedToken, now time.Time) ([]revokedToken, int) {
	out := list[:0:0]
	for _, t := range list {
		if exp, ok := idExpiry(t.ID); ok && now.After(exp.Add(pruneGrace)) {
			continue
		}
		out = append(out, t)
	}
	return out, len(list) - len(out)
}

// forget drops the cached list of a mesh.
func (r *revocations) forget(mesh string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.lists, mesh)
}

// read returns the stored list and its version; a missing list is empty, at version 0.
func (r *revocations) read(ctx context.Context, mesh string) (storedRevocations, int64, error) {
	raw, version, err := r.store.GetState(ctx, revocationsState(mesh))
	if errors.Is(err, store.ErrNotFound) {
		return storedRevocations{}, 0, nil
	}
	if err != nil {
		return storedRevocations{}, 0, fmt.Errorf("reading the token revocations of mesh %q: %w", mesh, err)
	}
	var s storedRevocations
	if err := json.Unmarshal(raw, &s); err != nil {
		return storedRevocations{}, 0, fmt.Errorf("decoding the token revocations of mesh %q: %w", mesh, err)
	}
	return s, version, nil
}

// cache keeps the newer of what it has and what was just read: a read that started before a
// local revoke committed must not put the revoked token back in service until the next refresh.
// Versions count anew when a deleted mesh's list is created again, so only versions of one
// incarnation's list are compared.
func (r *revocations) cache(mesh string, s storedRevocations, version int64) *revocationList {
	l := &revocationList{ids: make(map[string]bool, len(s.Revoked)), version: version, meshCreated: s.MeshCreated, fetched: r.now()}
	for _, t := range s.Revoked {
		l.ids[t.ID] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.lists[mesh]; old != nil && old.version > version && old.meshCreated.Equal(l.meshCreated) {
		return old
	}
	r.lists[mesh] = l
	return l
}
