package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// SetSnapshot makes snap the configuration of node and pushes every type whose version changed
// to the node's streams. A snapshot whose versions all equal the current ones changes nothing,
// pushes nothing and returns false. The snapshot must not be modified afterwards.
//
// On error the node may be left with some types of the new snapshot and some of the old; set
// the snapshot again to finish.
func (s *Server) SetSnapshot(ctx context.Context, node string, snap *cache.Snapshot) (bool, error) {
	if node == "" {
		return false, errors.New("set snapshot: empty node id")
	}
	if snap == nil {
		return false, fmt.Errorf("set snapshot for node %q: nil snapshot", node)
	}
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	cur := s.snaps[node]
	steps := changedTypes(cur, snap)
	if cur != nil && len(steps) == 0 {
		s.metrics.sets.WithLabelValues("false").Inc()
		return false, nil
	}
	if err := s.publish(ctx, node, cur, snap, steps); err != nil {
		return false, fmt.Errorf("set snapshot for node %q: %w", node, err)
	}
	s.snaps[node] = snap
	s.registry.setVersions(node, versions(snap))
	s.metrics.sets.WithLabelValues("true").Inc()
	return true, nil
}

// ClearSnapshot forgets the node's snapshot and ends its open streams. go-control-plane's
// ClearSnapshot also forgets the node's open watches (pkg/cache/v3/simple.go, ClearSnapshot
// deletes cache.status[node]), so a stream left open would never hear of a later snapshot;
// ended, its client reconnects and waits for one.
func (s *Server) ClearSnapshot(node string) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	delete(s.snaps, node)
	s.cache.ClearSnapshot(node)
	streams := s.registry.clear(node)
	if len(streams) > 0 {
		s.log.Info("configuration withdrawn; ending the node's streams", "node", node, "streams", len(streams))
	}
	for _, st := range streams {
		st.stop(errWithdrawn)
	}
}

// publish moves the cache from cur to next one changed type at a time, in go-control-plane's
// type order (clusters, endpoints, listeners, routes, then the rest), which is the order the
// xDS protocol asks for so that nothing refers to a resource Envoy does not have yet. Each
// step pushes only the type it changes, and an ADS stream's responses leave in the order they
// were made, so a node sees its types in that order. The non-ADS cache would otherwise answer
// a node's watches in map order (simple.go, respondSOTWWatches).
//
// A node's first snapshot goes in one step: against an intermediate snapshot lacking a type,
// a delta wildcard watch that has not been answered yet is answered with nothing (simple.go,
// respondDelta sends an empty response to a first wildcard request), so Envoy would briefly be
// told it has no listeners. A stream still waiting for its first configuration serves no
// traffic that ordering could protect, and a reconnecting Envoy already holding the content
// hashed into the same versions is sent nothing.
func (s *Server) publish(ctx context.Context, node string, cur, next *cache.Snapshot, steps []types.ResponseType) error {
	if cur == nil {
		return s.cache.SetSnapshot(ctx, node, next)
	}
	var mix blend
	for i := range mix {
		mix[i] = cur
	}
	for k, t := range steps {
		if k == len(steps)-1 {
			break // the last step is next itself
		}
		mix[t] = next
		step := mix
		if err := s.cache.SetSnapshot(ctx, node, &step); err != nil {
			return err
		}
	}
	return s.cache.SetSnapshot(ctx, node, next)
}

// changedTypes lists, in type order, the types whose version differs between cur and next.
func changedTypes(cur, next *cache.Snapshot) []types.ResponseType {
	if cur == nil {
		return nil
	}
	var out []types.ResponseType
	for i := range next.Resources {
		if cur.Resources[i].Version != next.Resources[i].Version {
			out = append(out, types.ResponseType(i))
		}
	}
	return out
}

func versions(snap *cache.Snapshot) map[string]string {
	out := map[string]string{}
	for i, r := range snap.Resources {
		if r.Version == "" && len(r.Items) == 0 {
			continue
		}
		if url, err := cache.GetResponseTypeURL(types.ResponseType(i)); err == nil {
			out[url] = r.Version
		}
	}
	return out
}
