package server

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// blend is an intermediate snapshot of a staged publication: each type comes whole from one
// of the snapshots it mixes. Delegating, rather than copying into a new cache.Snapshot, keeps
// each snapshot's lazily built per-resource version map (used by delta) built once.
type blend [types.UnknownType]*cache.Snapshot

var _ cache.ResourceSnapshot = (*blend)(nil)

func (b *blend) of(typeURL string) *cache.Snapshot {
	t := cache.GetResponseType(typeURL)
	if t == types.UnknownType {
		return nil
	}
	return b[t]
}

func (b *blend) GetVersion(typeURL string) string {
	return b.of(typeURL).GetVersion(typeURL)
}

func (b *blend) GetResourcesAndTTL(typeURL string) map[string]types.ResourceWithTTL {
	return b.of(typeURL).GetResourcesAndTTL(typeURL)
}

func (b *blend) GetResources(typeURL string) map[string]types.Resource {
	return b.of(typeURL).GetResources(typeURL)
}

// ConstructVersionMap builds the maps of the underlying snapshots. The cache calls it only
// while holding its lock, which is what makes the lazy build in cache.Snapshot safe.
func (b *blend) ConstructVersionMap() error {
	var done []*cache.Snapshot
	for _, s := range b {
		if s == nil || containsSnap(done, s) {
			continue
		}
		if err := s.ConstructVersionMap(); err != nil {
			return err
		}
		done = append(done, s)
	}
	return nil
}

func (b *blend) GetVersionMap(typeURL string) map[string]string {
	s := b.of(typeURL)
	if s == nil {
		return nil
	}
	return s.GetVersionMap(typeURL)
}

func containsSnap(list []*cache.Snapshot, s *cache.Snapshot) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
