package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// Keys die with their mesh. A mesh's key material (builtin CA roots and keys, retiring roots,
// the token signing key and revocations, issued identities) is bound to the mesh's
// incarnation, its creation time: a mesh deleted and created again under the same name gets
// new keys and refuses the first one's tokens, even before the first one's state is deleted
// (ca and ca/tokens check the incarnation recorded with the state). meshKeys deletes that
// state once the mesh is gone, and ends the streams a deleted mesh's (or a revoked) token
// opened.
//
// A ledger in the store lists the meshes that may have state, with their incarnation and
// builtin backends, so that a mesh deleted while no control plane ran, or seen deleted by
// another replica only, is cleaned up too: every rebuild compares it with the model.

// meshLedgerKey holds the ledger.
const meshLedgerKey = "mesh-keys/ledger"

// meshLedgerFormat changes when the document's meaning does.
const meshLedgerFormat = 1

// versionAbsent is the version PutState takes to create the ledger: none is stored yet.
const versionAbsent int64 = -1

// meshLedgerTimeout bounds the store calls of one cleanup.
const meshLedgerTimeout = 10 * time.Second

type meshLedger struct {
	Format int                       `json:"format"`
	Meshes map[string]meshLedgerItem `json:"meshes"`
}

// meshLedgerItem is one mesh that may have state: its incarnation and every builtin backend
// it has had (a backend removed from the Mesh keeps its root in the store).
type meshLedgerItem struct {
	Created  time.Time `json:"created"`
	Backends []string  `json:"backends,omitempty"`
}

// meshKeys runs the lifecycle of every mesh's key material; see above.
type meshKeys struct {
	store  store.Store
	tokens *tokens.Issuer
	ids    *identity.Service
	log    *slog.Logger
	// streams re-checks open streams; nil when xDS streams carry no tokens (--xds-auth none).
	streams *tokenStreams

	mu      sync.Mutex
	loaded  bool
	version int64 // of the ledger; versionAbsent when none is stored
	known   map[string]meshLedgerItem
}

// warmTokens loads every mesh's token verification state while the store answers, so that
// dataplanes this replica never admitted can still be admitted through a store outage
// (tokens.Issuer.Warm). Only where streams carry tokens.
func (k *meshKeys) warmTokens(ctx context.Context, m *model.Model) {
	if k.streams == nil {
		return
	}
	for _, mesh := range m.Meshes() {
		if err := k.tokens.Warm(ctx, mesh.Name); err != nil {
			k.log.Debug("loading the token verification state of a mesh", "mesh", mesh.Name, "error", err)
		}
	}
}

// newMeshKeys wires key lifecycle for a control plane; its failure to register metrics is
// logged, not fatal.
func newMeshKeys(st store.Store, issuer *tokens.Issuer, ids *identity.Service, xds streamEnder, authMode string, reg prometheus.Registerer, log *slog.Logger) *meshKeys {
	k := &meshKeys{store: st, tokens: issuer, ids: ids, log: log, known: map[string]meshLedgerItem{}}
	if authMode != XDSAuthNone && xds != nil && issuer != nil {
		k.streams = newTokenStreams(issuer, xds, reg, log)
	}
	return k
}

// meshLookup is the tokens package's view of the store's meshes.
func meshLookup(st store.Store) tokens.MeshLookup {
	return func(ctx context.Context, mesh string) (time.Time, error) {
		rec, err := st.Get(ctx, store.Key{Kind: string(api.KindMesh), Name: mesh})
		if errors.Is(err, store.ErrNotFound) && mesh == api.DefaultMesh {
			return tokens.ImplicitMesh, nil // Kuma's default mesh exists without a resource
		}
		if errors.Is(err, store.ErrNotFound) {
			return time.Time{}, fmt.Errorf("%w: %q", tokens.ErrUnknownMesh, mesh)
		}
		if err != nil {
			return time.Time{}, err
		}
		return rec.CreationTime, nil
	}
}

// update runs at the start of every rebuild, before anything is issued for the model: meshes
// that are gone or were re-created since they were recorded lose their cached and stored
// state, and the streams their tokens opened; the model's meshes are recorded.
func (k *meshKeys) update(ctx context.Context, m *model.Model) {
	if k == nil {
		return
	}
	now := map[string]meshLedgerItem{}
	for _, mesh := range m.Meshes() {
		now[mesh.Name] = meshLedgerItem{Created: incarnation(mesh.Resource), Backends: builtinBackends(mesh.Resource)}
	}
	ctx, cancel := context.WithTimeout(ctx, meshLedgerTimeout)
	defer cancel()
	k.warmTokens(ctx, m)
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.loaded {
		if err := k.load(ctx); err != nil {
			// Meshes this process sees go are still cleaned up; the ledger is read next time.
			k.log.Warn("reading the mesh key ledger", "error", err)
		}
	}
	removed := map[string]time.Time{}
	stale := map[string]bool{}
	var ended []string
	for name, rec := range k.known {
		cur, ok := now[name]
		switch {
		case ok && cur.Created.Equal(rec.Created):
			continue
		case ok && rec.Created.Equal(tokens.ImplicitMesh):
			continue // a Mesh resource for the implicit default mesh: the same mesh, adopted below
		}
		gone, err := k.clean(ctx, name, rec)
		if err != nil {
			k.log.Error("deleting the keys of a deleted mesh; retried at the next rebuild", "mesh", name, "created", rec.Created, "error", err)
			stale[name] = true
			continue
		}
		if !gone {
			stale[name] = true // the store still has that mesh: this model is behind it
			continue
		}
		delete(k.known, name)
		removed[name] = rec.Created
		ended = append(ended, name)
	}
	added := map[string]meshLedgerItem{}
	for name, cur := range now {
		rec, ok := k.known[name]
		switch {
		case stale[name]:
			continue
		case !ok || rec.Created.Equal(tokens.ImplicitMesh) && !cur.Created.Equal(rec.Created):
			rec = cur
		case cur.Created.Equal(rec.Created):
			backends := union(rec.Backends, cur.Backends)
			if len(backends) == len(rec.Backends) {
				continue
			}
			rec.Backends = backends
		default:
			continue
		}
		k.known[name] = rec
		added[name] = rec
	}
	if len(removed)+len(added) > 0 {
		if err := k.save(ctx, removed, added); err != nil {
			k.log.Warn("writing the mesh key ledger; retried at the next rebuild", "error", err)
			k.loaded = false
		}
	}
	if k.streams != nil && len(ended) > 0 {
		k.streams.recheck(ctx, ended...)
	}
}

// clean deletes what the store keeps for the mesh incarnation rec, unless the store says the
// mesh is still that incarnation (this rebuild's model is behind it); it says whether the mesh
// is gone. Everything it deletes is checked against the incarnation recorded with it, so a
// later mesh's state survives.
func (k *meshKeys) clean(ctx context.Context, name string, rec meshLedgerItem) (bool, error) {
	k.ids.DropMesh(name)
	got, err := k.store.Get(ctx, store.Key{Kind: string(api.KindMesh), Name: name})
	switch {
	case err == nil && incarnationOf(name, got.CreationTime).Equal(rec.Created):
		return false, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	deleted, err := k.ids.DeleteMesh(ctx, name, rec.Created, rec.Backends)
	if err != nil {
		return false, err
	}
	if err := k.tokens.DeleteMesh(ctx, name, rec.Created); err != nil {
		return false, err
	}
	k.log.Info("mesh deleted: its keys deleted with it", "mesh", name, "created", rec.Created, "ca", deleted)
	return true, nil
}

// load merges the stored ledger into what this process knows: meshes it recorded but could not
// store yet stay, to be written with the next change.
func (k *meshKeys) load(ctx context.Context) error {
	known, version, err := readMeshLedger(ctx, k.store)
	if err != nil {
		return err
	}
	for name, rec := range known {
		if mine, ok := k.known[name]; ok && mine.Created.Equal(rec.Created) {
			rec.Backends = union(rec.Backends, mine.Backends)
		}
		k.known[name] = rec
	}
	k.version, k.loaded = version, true
	return nil
}

func readMeshLedger(ctx context.Context, st store.Store) (map[string]meshLedgerItem, int64, error) {
	raw, version, err := st.GetState(ctx, meshLedgerKey)
	if errors.Is(err, store.ErrNotFound) {
		return map[string]meshLedgerItem{}, versionAbsent, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var l meshLedger
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", meshLedgerKey, err)
	}
	if l.Format > meshLedgerFormat {
		return nil, 0, fmt.Errorf("%s has format %d, this version understands up to %d", meshLedgerKey, l.Format, meshLedgerFormat)
	}
	if l.Meshes == nil {
		l.Meshes = map[string]meshLedgerItem{}
	}
	return l.Meshes, version, nil
}

// save writes this rebuild's changes onto the stored ledger: another control plane's changes
// in between are kept (a later incarnation wins; backends of one incarnation add up).
func (k *meshKeys) save(ctx context.Context, removed map[string]time.Time, added map[string]meshLedgerItem) error {
	next, version := k.known, k.version
	for range 3 {
		raw, err := json.Marshal(meshLedger{Format: meshLedgerFormat, Meshes: next})
		if err != nil {
			return err
		}
		written, err := k.store.PutState(ctx, meshLedgerKey, raw, version)
		if err == nil {
			k.known, k.version = next, written
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		theirs, v, err := readMeshLedger(ctx, k.store)
		if err != nil {
			return err
		}
		next, version = mergeLedger(theirs, removed, added), v
	}
	return fmt.Errorf("%s keeps changing", meshLedgerKey)
}

// mergeLedger applies one control plane's changes to the stored ledger: it removes what this
// one cleaned up, and records what it saw unless the ledger holds another incarnation of that
// mesh (which the next rebuild then compares with the store).
func mergeLedger(theirs map[string]meshLedgerItem, removed map[string]time.Time, added map[string]meshLedgerItem) map[string]meshLedgerItem {
	out := maps.Clone(theirs)
	for name, created := range removed {
		if rec, ok := out[name]; ok && rec.Created.Equal(created) {
			delete(out, name)
		}
	}
	for name, rec := range added {
		cur, ok := out[name]
		switch {
		case !ok || cur.Created.Equal(tokens.ImplicitMesh):
			out[name] = rec
		case rec.Created.Equal(cur.Created):
			cur.Backends = union(cur.Backends, rec.Backends)
			out[name] = cur
		}
	}
	return out
}

// incarnation is when a mesh was created: what its key material is bound to.
func incarnation(m *api.Mesh) time.Time { return incarnationOf(m.Name, m.CreationTime) }

func incarnationOf(name string, created time.Time) time.Time {
	if created.IsZero() && name == api.DefaultMesh {
		return tokens.ImplicitMesh // the default mesh meshgate provides without a resource
	}
	return created.UTC()
}

// builtinBackends names the mesh's builtin CA backends, whose roots the store keeps.
func builtinBackends(m *api.Mesh) []string {
	if m == nil || m.Spec.MTLS == nil {
		return nil
	}
	var out []string
	for _, b := range m.Spec.MTLS.Backends {
		if b.Type == api.CABackendBuiltin {
			out = append(out, b.Name)
		}
	}
	slices.Sort(out)
	return out
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
