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
	Revoked []revokedToken `json:"revoked"`
}

type revokedToken struct {
	ID        string    `json:"id"`
	RevokedAt time.Time `json:"revokedAt"`
}

type revocationList struct {
	ids     map[string]bool
	version int64
	fetched time.Time
}

// revocations caches each mesh's revocation list for ttl. The list changes rarely and is read
// on every xDS connect, so this process sees its own revocations at once and another control
// plane's within ttl. Only meshes whose keys verified a token get here, so the map is bounded
// by the real meshes.
type revocations struct {
	store StateStore
	now   func() time.Time
	ttl   time.Duration

	mu    sync.Mutex
	lists map[string]*revocationList
}

func newRevocations(s StateStore, now func() time.Time, ttl time.Duration) *revocations {
	return &revocations{store: s, now: now, ttl: ttl, lists: map[string]*revocationList{}}
}

func (r *revocations) isRevoked(ctx context.Context, mesh, id string) (bool, error) {
	r.mu.Lock()
	l := r.lists[mesh]
	r.mu.Unlock()
	if l == nil || r.now().Sub(l.fetched) >= r.ttl {
		stored, version, err := r.read(ctx, mesh)
		if err != nil {
			return false, err
		}
		l = r.cache(mesh, stored, version)
	}
	return l.ids[id], nil
}

// revoke adds id to the mesh's list. Writers on other control planes are caught by the
// expected version and the write is retried on the fresh list.
func (r *revocations) revoke(ctx context.Context, mesh, id string) (added bool, err error) {
	const attempts = 5
	for range attempts {
		stored, version, err := r.read(ctx, mesh)
		if err != nil {
			return false, err
		}
		for _, t := range stored.Revoked {
			if t.ID == id {
				r.cache(mesh, stored, version)
				return false, nil
			}
		}
		stored.Revoked = append(stored.Revoked, revokedToken{ID: id, RevokedAt: r.now().UTC()})
		sort.Slice(stored.Revoked, func(i, j int) bool { return stored.Revoked[i].ID < stored.Revoked[j].ID })
		raw, err := json.Marshal(stored)
		if err != nil {
			return false, err
		}
		expect := version
		if expect == 0 {
			expect = -1 // the list does not exist yet: create it, unless someone else just did
		}
		written, err := r.store.PutState(ctx, revocationsState(mesh), raw, expect)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("storing the token revocations of mesh %q: %w", mesh, err)
		}
		r.cache(mesh, stored, written)
		return true, nil
	}
	return false, fmt.Errorf("storing the token revocations of mesh %q: still conflicting after %d attempts: %w", mesh, attempts, store.ErrConflict)
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
func (r *revocations) cache(mesh string, s storedRevocations, version int64) *revocationList {
	l := &revocationList{ids: make(map[string]bool, len(s.Revoked)), version: version, fetched: r.now()}
	for _, t := range s.Revoked {
		l.ids[t.ID] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.lists[mesh]; old != nil && old.version > version {
		return old
	}
	r.lists[mesh] = l
	return l
}
