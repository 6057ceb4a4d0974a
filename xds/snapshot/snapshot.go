// Package snapshot packages one dataplane's Envoy resources as a go-control-plane snapshot.
// Each type's version is a hash of that type's content, so a rebuild that changes nothing
// yields the same versions and the server pushes nothing, and a change to one type leaves the
// other types' versions, and Envoy's copies of them, alone.
package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// versionLen is how many hex digits of the SHA-256 a version keeps: 64 bits, ample to tell
// one dataplane's successive configurations apart.
const versionLen = 16

type group struct {
	kind  string
	typ   types.ResponseType
	items []types.Resource
}

// New validates every resource, versions each type by content and checks that the snapshot
// is consistent (every EDS cluster has its assignment, every RDS name its route configuration,
// and nothing is left over), so that a broken snapshot is never published.
func New(res *envoyres.Resources) (*cache.Snapshot, error) {
	snap, _, err := assemble(res, false)
	return snap, err
}

// Served is New's snapshot as the xDS server sends it, every resource sealed (seal.go): the
// bytes made to hash a resource are the bytes every stream is sent, instead of each stream
// marshalling the resource again. Read resources from New's snapshot, never from this one.
func Served(res *envoyres.Resources) (*cache.Snapshot, error) {
	_, served, err := assemble(res, true)
	return served, err
}

// Both returns New's snapshot and Served's, from one validation and one marshalling.
func Both(res *envoyres.Resources) (typed, served *cache.Snapshot, err error) {
	return assemble(res, true)
}

func groups(res *envoyres.Resources) []group {
	return []group{
		{"listener", types.Listener, list(res.Listeners)},
		{"route configuration", types.Route, list(res.Routes)},
		{"cluster", types.Cluster, list(res.Clusters)},
		{"cluster load assignment", types.Endpoint, list(res.Endpoints)},
		{"secret", types.Secret, list(res.Secrets)},
	}
}

// assemble builds the typed snapshot, checks it, and with seal also its sealed twin.
func assemble(res *envoyres.Resources, seal bool) (*cache.Snapshot, *cache.Snapshot, error) {
	if res == nil {
		return nil, nil, errors.New("snapshot: nil resources")
	}
	snap, served := &cache.Snapshot{}, &cache.Snapshot{}
	var errs []error
	for _, g := range groups(res) {
		typed, sealed, err := Group(g.kind, g.typ, g.items, seal)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Every type is set, even when empty, so Envoy's wildcard requests get an (empty)
		// answer instead of waiting forever.
		snap.Resources[g.typ], served.Resources[g.typ] = typed, sealed
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if err := snap.Consistent(); err != nil {
		return nil, nil, fmt.Errorf("inconsistent snapshot: %w", err)
	}
	return snap, served, nil
}

// Group validates and versions one type's resources; with seal it also returns them sealed
// under the same version. Snapshots that share a type (the replicas of one gateway share their
// routes, clusters and endpoints) make it once and reuse it.
func Group(kind string, typ types.ResponseType, items []types.Resource, seal bool) (typed, sealed cache.Resources, err error) {
	v, raws, err := version(kind, items)
	if err != nil {
		return cache.Resources{}, cache.Resources{}, err
	}
	typed = cache.NewResources(v, items)
	if !seal {
		return typed, cache.Resources{}, nil
	}
	out := make([]types.Resource, len(items))
	for i, r := range items {
		if out[i], err = sealResource(r, raws[i]); err != nil {
			return cache.Resources{}, cache.Resources{}, fmt.Errorf("%s %q: %w", kind, cache.GetResourceName(r), err)
		}
	}
	return typed, cache.NewResources(v, out), nil
}

func list[T types.Resource](in []T) []types.Resource {
	out := make([]types.Resource, len(in))
	for i, r := range in {
		out[i] = r
	}
	return out
}

// version validates a type's resources and hashes them in name order, so the version depends
// only on content. Names are length-prefixed with the bytes so no two sets hash alike by
// concatenation.
func version(kind string, items []types.Resource) (string, [][]byte, error) {
	type entry struct {
		name string
		raw  []byte
	}
	entries := make([]entry, 0, len(items))
	raws := make([][]byte, len(items))
	seen := map[string]bool{}
	var errs []error
	for i, r := range items {
		name, err := check(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %d %q: %w", kind, i, name, err))
			continue
		}
		if seen[name] {
			// The cache indexes by name; a duplicate would silently replace its twin.
			errs = append(errs, fmt.Errorf("%s %q: duplicate name", kind, name))
			continue
		}
		seen[name] = true
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: marshalling: %w", kind, name, err))
			continue
		}
		raws[i] = raw
		entries = append(entries, entry{name, raw})
	}
	if len(errs) > 0 {
		return "", nil, errors.Join(errs...)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	h := sha256.New()
	for _, e := range entries {
		writeField(h, []byte(e.name))
		writeField(h, e.raw)
	}
	return hex.EncodeToString(h.Sum(nil))[:versionLen], raws, nil
}

func writeField(h interface{ Write([]byte) (int, error) }, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	// hash.Hash.Write never returns an error.
	_, _ = h.Write(n[:])
	_, _ = h.Write(b)
}

// check returns the resource's name after running Envoy's field validation on it.
func check(r types.Resource) (string, error) {
	if r == nil || !r.ProtoReflect().IsValid() {
		return "", errors.New("nil resource")
	}
	name := cache.GetResourceName(r)
	if name == "" {
		return "", errors.New("resource has no name")
	}
	v, ok := r.(interface{ ValidateAll() error })
	if !ok {
		return name, fmt.Errorf("%T has no ValidateAll", r)
	}
	if err := v.ValidateAll(); err != nil {
		return name, err
	}
	return name, nil
}
