package kds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/store"
)

var nonces atomic.Uint64

// sender sends one stream's resources: a full set per kind first, then what changed, computed
// by diffing the store against what this stream last sent.
type sender struct {
	st      store.Store
	kinds   []string
	include func(store.Record) bool
	send    func(*discovery.DeltaDiscoveryResponse) error
	sent    func(n int)

	mu sync.Mutex
	// refused holds the types the receiver NACKed: each is sent as a full set again at the next
	// change (not at once, so a resource the receiver cannot take does not make a loop).
	refused map[string]bool
}

// nacked records that the receiver refused a response of a type.
func (s *sender) nacked(typeURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused == nil {
		s.refused = map[string]bool{}
	}
	s.refused[typeURL] = true
}

func (s *sender) takeRefused() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.refused
	s.refused = nil
	return r
}

func (s *sender) run(ctx context.Context) error {
	changes, err := s.st.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watching the store: %w", err)
	}
	wanted := map[string]bool{}
	for _, k := range s.kinds {
		wanted[k] = true
	}
	var last map[string]map[string]string // type URL -> resource name -> version
	// hashes keeps each record's content version by its store version, modification time and
	// size (a record deleted and created again restarts its version), so a change costs a hash
	// of what changed rather than of every synced spec.
	type hashed struct {
		storeVersion int64
		modified     time.Time
		size         int
		version      string
	}
	hashes := map[store.Key]hashed{}
	for {
		snap, err := s.st.All(ctx)
		if err != nil {
			return fmt.Errorf("reading the store: %w", err)
		}
		cur := map[string]map[string]*discovery.Resource{}
		seen := make(map[store.Key]hashed, len(hashes))
		for _, rec := range snap.Records {
			if !wanted[rec.Kind] || !s.include(rec) {
				continue
			}
			tu := typeURL(rec.Kind)
			if cur[tu] == nil {
				cur[tu] = map[string]*discovery.Resource{}
			}
			h, ok := hashes[rec.Key]
			if !ok || h.storeVersion != rec.Version || !h.modified.Equal(rec.ModificationTime) || h.size != len(rec.Spec) {
				h = hashed{storeVersion: rec.Version, modified: rec.ModificationTime, size: len(rec.Spec), version: specVersion(rec.Spec)}
			}
			seen[rec.Key] = h
			name := resourceName(rec.Key)
			cur[tu][name] = &discovery.Resource{Name: name, Version: h.version,
				Resource: &anypb.Any{TypeUrl: tu, Value: rec.Spec}}
		}
		hashes = seen
		first := last == nil
		refused := s.takeRefused()
		next := map[string]map[string]string{}
		for _, kind := range s.kinds {
			tu := typeURL(kind)
			prev := last[tu]
			full := first || refused[tu]
			versions := map[string]string{}
			resp := &discovery.DeltaDiscoveryResponse{TypeUrl: tu,
				Nonce: strconv.FormatUint(nonces.Add(1), 10), SystemVersionInfo: strconv.FormatInt(snap.Revision, 10)}
			if full {
				resp.SystemVersionInfo = fullPrefix + resp.SystemVersionInfo
			}
			for _, name := range sortedKeys(cur[tu]) {
				r := cur[tu][name]
				versions[name] = r.Version
				if full || prev[name] != r.Version {
					resp.Resources = append(resp.Resources, r)
				}
			}
			for _, name := range sortedKeys(prev) {
				if _, ok := versions[name]; !ok && !full {
					resp.RemovedResources = append(resp.RemovedResources, name)
				}
			}
			next[tu] = versions
			if !full && len(resp.Resources) == 0 && len(resp.RemovedResources) == 0 {
				continue
			}
			if err := s.send(resp); err != nil {
				return fmt.Errorf("sending %s: %w", kind, err)
			}
			if s.sent != nil {
				s.sent(len(resp.Resources) + len(resp.RemovedResources))
			}
		}
		last = next
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-changes:
			if !ok {
				return errors.New("the store's watch ended")
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
