package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/meshgate/meshgate/store"
)

// MeshLookup reports when a mesh was created: its incarnation. A mesh deleted and created
// again under the same name has a new creation time, and is a new mesh: new signing key, new
// revocation list, and none of the old tokens. It returns an error wrapping ErrUnknownMesh
// when the mesh does not exist, ImplicitMesh for a mesh that exists without a Mesh resource,
// and the zero time when its creation time is unknown (then tokens are not bound to an
// incarnation).
type MeshLookup func(ctx context.Context, mesh string) (created time.Time, err error)

// ImplicitMesh is the incarnation of a mesh that exists without a Mesh resource: Kuma's
// `default` mesh, which meshgate provides when no Mesh of that name is stored. A Mesh resource
// created later under that name adopts its state (it is the same mesh, now configured), while
// deleting that resource again is a deletion like any other: back to a new implicit mesh.
var ImplicitMesh = time.Unix(1, 0).UTC()

// sameMesh says whether state stamped with the incarnation stamped (non-zero) is the state of
// the incarnation created (zero: unknown, so any is).
func sameMesh(stamped, created time.Time) bool {
	return created.IsZero() || stamped.Equal(created) || stamped.Equal(ImplicitMesh)
}

// claimable: state that belongs to created but is not stamped with it yet (unstamped, or the
// implicit mesh's), to be stamped when next written.
func claimable(stamped, created time.Time) bool {
	return !created.IsZero() && !stamped.Equal(created) && (stamped.IsZero() || stamped.Equal(ImplicitMesh))
}

// legacySlack: state written before keys were bound to a mesh's incarnation carries no
// incarnation. It belongs to the current mesh only if it was created after the mesh (keys are
// made on first use, after their mesh), give or take this much clock skew between control
// planes; anything older is the state of an earlier mesh of the same name.
const legacySlack = 5 * time.Minute

// belongs says whether state stamped with stamped (zero: unstamped, made at made) belongs to
// the mesh incarnation created at created (zero: unknown, so anything does).
func belongs(stamped, made, created time.Time) bool {
	switch {
	case created.IsZero():
		return true
	case !stamped.IsZero():
		return sameMesh(stamped, created)
	default:
		return !made.Before(created.Add(-legacySlack))
	}
}

// meshState is what the issuer last learned of one mesh.
type meshState struct {
	created time.Time
	gone    bool
	fetched time.Time
}

// incarnations caches the MeshLookup for ttl, as revocations are cached: the connect path
// reads the store at most once per mesh per ttl. Issue and Revoke ask afresh. Only meshes
// whose keys verified a token get here, so the map is bounded by the real meshes.
type incarnations struct {
	lookup MeshLookup
	now    func() time.Time
	ttl    time.Duration

	mu     sync.Mutex
	byMesh map[string]meshState
}

func newIncarnations(lookup MeshLookup, now func() time.Time, ttl time.Duration) *incarnations {
	return &incarnations{lookup: lookup, now: now, ttl: ttl, byMesh: map[string]meshState{}}
}

// current returns what is known of the mesh, read afresh when fresh is set or the cached entry
// is older than ttl. A mesh that does not exist is not an error: gone is set. It serves
// verification: when the store is out of reach, what was learned before answers.
func (c *incarnations) current(ctx context.Context, mesh string, fresh bool) (meshState, error) {
	maxAge := c.ttl
	if fresh {
		maxAge = 0
	}
	return c.within(ctx, mesh, maxAge)
}

// within is current, reading afresh what is older than maxAge.
func (c *incarnations) within(ctx context.Context, mesh string, maxAge time.Duration) (meshState, error) {
	return c.read(ctx, mesh, maxAge, true)
}

// exists reads the mesh afresh, with no fallback when the store is out of reach: Issue and
// Revoke act on what the mesh is now.
func (c *incarnations) exists(ctx context.Context, mesh string) (meshState, error) {
	return c.read(ctx, mesh, 0, false)
}

// read returns the cached entry when it is younger than maxAge, else looks the mesh up; with
// lenient, a store out of reach leaves the cached entry to answer.
func (c *incarnations) read(ctx context.Context, mesh string, maxAge time.Duration, lenient bool) (meshState, error) {
	if c.lookup == nil {
		return meshState{}, nil
	}
	c.mu.Lock()
	cached, ok := c.byMesh[mesh]
	c.mu.Unlock()
	if ok && c.now().Sub(cached.fetched) < maxAge {
		return cached, nil
	}
	created, err := c.lookup(ctx, mesh)
	st := meshState{created: created.UTC(), fetched: c.now()}
	switch {
	case errors.Is(err, ErrUnknownMesh):
		st = meshState{gone: true, fetched: c.now()}
	case lenient && ok && errors.Is(err, store.ErrUnavailable):
		// The store is out of reach: what was learned before stands, a deletion or re-creation
		// included, so known dataplanes can reconnect through an outage. fetched stays, so the
		// next call asks the store again.
		return cached, nil
	case err != nil:
		return meshState{}, fmt.Errorf("looking up mesh %q: %w", mesh, err)
	}
	c.mu.Lock()
	c.byMesh[mesh] = st
	c.mu.Unlock()
	return st, nil
}

func (c *incarnations) forget(mesh string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byMesh, mesh)
}

func unknownMesh(mesh string) error {
	return fmt.Errorf("%w: mesh %q does not exist; create the Mesh first, then issue tokens for its dataplanes", ErrUnknownMesh, mesh)
}
