package identity

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// Service issues and caches each dataplane's workload certificate. A certificate is kept
// until 80 % of its life has passed or what it certifies (services, tags) changes; so a rebuild
// for an unrelated change does not re-issue, and a renewal changes only the dataplane's
// secrets. A certificate from a backend that is no longer the enabled one (or from an older
// configuration of it) stays valid and trusted, so it is replaced gradually: after a settle
// time, jittered, and rate-limited (see RotationOptions).
//
// Certificates are also kept in the store (store.go): the cache is filled from it, so
// a restart, or another control plane on the same store, serves the certificate a dataplane
// already has. A cache hit never touches the store: a miss reads it, an issue writes it (at
// the end of the rebuild, in one batch), and Forget deletes the entries of deleted dataplanes.
type Service struct {
	ca    transitionCAs
	rot   *rotations
	opts  RotationOptions
	now   func() time.Time
	store store.Store
	log   *slog.Logger

	mu     sync.Mutex
	byNode map[Dataplane]cachedIdentity
	// model is the model being built, read by the CA's Secret resolver.
	model *model.Model
	// gen counts rebuilds: each mesh's trust is prepared once per rebuild (views).
	gen     uint64
	views   map[string]preparedView
	limiter *tokenBucket
	// index tracks which dataplanes have a stored certificate.
	index storeIndex
	// dropped are the identities of meshes deleted (or re-created) since the last rebuild:
	// out of the cache at once, out of the store in Forget if their dataplane is gone too.
	dropped []cachedIdentity

	rootsMu sync.Mutex
	roots   map[string]*meshRoots
	writes  writeQueue
}

type preparedView struct {
	gen  uint64
	view meshView
}

type cachedIdentity struct {
	mesh string
	name string
	// key is what the certificate states: services and tags.
	key      string
	chain    string
	keyPEM   string
	backend  string
	root     *x509.Certificate
	rootFP   string
	spec     string
	issuedAt time.Time
	notAfter time.Time
	renewAt  time.Time
	// reissueAt is when a rate-limited re-issue from the enabled backend is due; zero while
	// the certificate comes from it.
	reissueAt time.Time
	// version is the store entry's version as this process last saw it (versionUnknown after
	// a failed store call); unsaved: the certificate is not stored yet.
	version int64
	unsaved bool
}

// subject is what a dataplane's certificate must state.
type subject struct {
	services []string
	tags     map[string][]string
	// key compares subjects.
	key string
}

func (c cachedIdentity) live(now time.Time) bool { return now.Before(c.notAfter) }

// stale: issued by a backend, or a configuration of it, that no longer issues.
func (c cachedIdentity) stale(v meshView) bool {
	return c.rootFP != v.enabledFP || c.spec != v.enabled.Spec
}

// Config is what New needs. Now is the one clock of the identities, the CA and the rate
// limiter: tests drive all three with a fake one.
type Config struct {
	Store    store.Store
	Rotation RotationOptions
	Log      *slog.Logger
	Now      func() time.Time
	// ZoneIntermediates, on a zone control plane, gets builtin backends' intermediates from
	// global instead of creating roots here (ca.Options.ZoneIntermediates).
	ZoneIntermediates ca.ZoneIntermediatesFunc
}

// New builds the identity service and the CA manager behind it.
func New(cfg Config) (*Service, error) {
	return newIdentitiesWith(cfg.Store, cfg.Rotation, cfg.Log, cfg.Now, cfg.ZoneIntermediates)
}

// CA is the CA manager behind the identities (global signs zones' intermediates with it).
func (i *Service) CA() *ca.Manager { return i.ca.Manager }

func newIdentitiesWith(st store.Store, opts RotationOptions, log *slog.Logger, now func() time.Time, zone ca.ZoneIntermediatesFunc) (*Service, error) {
	i := &Service{
		now: now, opts: opts, store: st, log: log, byNode: map[Dataplane]cachedIdentity{}, views: map[string]preparedView{},
		limiter: newTokenBucket(opts.Rate, opts.Burst), roots: map[string]*meshRoots{},
		index: newStoreIndex(),
	}
	m, err := ca.New(st, ca.Options{Secrets: i.resolveSecret, Now: now, ZoneIntermediates: zone})
	if err != nil {
		return nil, err
	}
	i.rot = newRotations(m, opts, log)
	i.ca = transitionCAs{Manager: m, rot: i.rot}
	return i, nil
}

// resolveSecret serves `secret:` data sources of provided CAs from the current model.
func (i *Service) resolveSecret(_ context.Context, mesh, name string) ([]byte, error) {
	i.mu.Lock()
	m := i.model
	i.mu.Unlock()
	if m == nil || m.Mesh(mesh) == nil || m.Mesh(mesh).Secrets[name] == nil {
		return nil, fmt.Errorf("secret %q not found in mesh %q", name, mesh)
	}
	return m.Mesh(mesh).Secrets[name].Spec.Bytes()
}

// SetModel starts a rebuild.
func (i *Service) SetModel(m *model.Model) {
	i.mu.Lock()
	i.model = m
	i.gen++
	i.mu.Unlock()
}

// forDataplane returns the dataplane's identity (nil when its mesh has no mTLS) and when the
// identities must be looked at again: a renewal, a scheduled re-issue, or a retiring root due
// to leave the bundle.
func (i *Service) forDataplane(ctx context.Context, mesh *model.Mesh, dp *api.Dataplane) (*Identity, time.Time, error) {
	if !mesh.MTLSEnabled() {
		return nil, time.Time{}, nil
	}
	of := ca.DataplaneSubject(mesh.Name, dp)
	services, tags := of.Services, of.Tags
	node := Dataplane{mesh.Name, dp.Name}
	want := subject{services: services, tags: tags, key: strings.Join(services, ",") + "|" + fmt.Sprint(tags)}
	v, err := i.view(ctx, mesh)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := i.now()
	i.mu.Lock()
	cached, ok := i.byNode[node]
	if !ok {
		// Not issued by this process: a previous one, or another control plane sharing the
		// store, may have. A stored certificate is then treated exactly like a cached one.
		i.mu.Unlock()
		cached, ok, cached.version = i.load(ctx, mesh.Name, dp.Name, want, v, now)
		i.mu.Lock()
		if ok {
			// Listed in the index, should the write that stored it have failed to list it.
			i.noteStoredLocked(mesh.Name, dp.Name)
		}
	}
	version := cached.version
	keep, wake := i.decide(&cached, ok, want.key, v, now)
	if keep {
		i.byNode[node] = cached
	}
	i.mu.Unlock()
	if keep && cached.unsaved {
		// Its first write failed (the store was unreachable, say): try again.
		i.writes.enqueue(pendingWrite{c: cached, want: want, v: v, now: now})
	}
	if !keep {
		if cached, err = i.issue(ctx, mesh.Name, dp.Name, want, v); err != nil {
			return nil, time.Time{}, err
		}
		cached.version, cached.unsaved = version, true
		i.mu.Lock()
		i.byNode[node] = cached
		i.mu.Unlock()
		// Written at the end of the rebuild (Forget), in one batch with the others.
		i.writes.enqueue(pendingWrite{c: cached, want: want, v: v, now: now})
		wake = cached.renewAt
	}
	id := Identity{CertificateChain: cached.chain, PrivateKey: cached.keyPEM, TrustBundle: v.bundlePEM}
	return &id, earliest(wake, v.wake), nil
}

// decide says whether the cached certificate is kept, and if so when to look at it again. It
// runs under i.mu: it spends rate-limit tokens and schedules re-issues.
func (i *Service) decide(c *cachedIdentity, ok bool, key string, v meshView, now time.Time) (bool, time.Time) {
	if !ok || c.key != key || !now.Before(c.renewAt) || !v.trusted[c.rootFP] {
		return false, time.Time{}
	}
	if !c.stale(v) {
		c.reissueAt = time.Time{}
		return true, c.renewAt
	}
	if c.reissueAt.IsZero() {
		life := c.notAfter.Sub(c.issuedAt)
		delay := i.opts.settleFor(life)
		if w := i.opts.windowFor(life); w > 0 {
			delay += rand.N(w)
		}
		c.reissueAt = now.Add(i.opts.roundUp(delay))
	}
	if now.Before(c.reissueAt) {
		return true, earliest(c.renewAt, c.reissueAt)
	}
	if i.limiter.take(now) {
		return false, time.Time{}
	}
	next := i.limiter.full(now)
	if tick := now.Add(i.opts.Tick); next.Before(tick) {
		next = tick
	}
	return true, earliest(c.renewAt, next)
}

func (i *Service) issue(ctx context.Context, mesh, dataplane string, want subject, v meshView) (cachedIdentity, error) {
	node := Dataplane{mesh, dataplane}
	issued, err := v.authority.Issue(ctx, ca.IssueRequest{Mesh: mesh, Services: want.services, Tags: want.tags})
	if err != nil {
		return cachedIdentity{}, fmt.Errorf("issuing identity for %s: %w", node, err)
	}
	root, ok := v.byBackend[issued.Backend]
	if !ok {
		return cachedIdentity{}, fmt.Errorf("issuing identity for %s: backend %q has no known root", node, issued.Backend)
	}
	now := i.now()
	return cachedIdentity{
		mesh: mesh, name: dataplane, key: want.key, chain: string(issued.CertPEM), keyPEM: string(issued.KeyPEM),
		backend: issued.Backend, root: root.Cert, rootFP: ca.Fingerprint(root.Cert), spec: root.Spec,
		issuedAt: now, notAfter: issued.NotAfter, renewAt: alignRenewal(issued.RenewAt, now, issued.NotAfter),
	}, nil
}

// renewalGrid bounds how finely renewal times are spread.
const renewalGrid = 5 * time.Minute

// alignRenewal moves a renewal time down onto a grid (a twentieth of the certificate's life, at
// most renewalGrid), so that a fleet's certificates renew in batches: every renewal wakes a
// rebuild of every dataplane, and 10,000 leaves issued at scattered times would otherwise mean
// 10,000 rebuilds a day. Renewing up to one grid step early is harmless at 80 % of the life.
func alignRenewal(renewAt, issuedAt, notAfter time.Time) time.Time {
	grid := min(renewalGrid, notAfter.Sub(issuedAt)/20)
	if grid <= 0 {
		return renewAt
	}
	if aligned := renewAt.Truncate(grid); aligned.After(issuedAt) {
		return aligned
	}
	return renewAt
}

// view prepares the mesh's trust once per rebuild, from the leaves cached before any of them
// is replaced in this rebuild.
func (i *Service) view(ctx context.Context, mesh *model.Mesh) (meshView, error) {
	i.mu.Lock()
	gen := i.gen
	if p, ok := i.views[mesh.Name]; ok && p.gen == gen {
		i.mu.Unlock()
		return p.view, nil
	}
	now := i.now()
	held := i.heldLocked(mesh.Name, now)
	i.mu.Unlock()
	v, err := i.rot.prepare(ctx, mesh.Resource, held, now)
	if err != nil {
		return meshView{}, fmt.Errorf("mesh %s CA: %w", mesh.Name, err)
	}
	i.mu.Lock()
	i.views[mesh.Name] = preparedView{gen: gen, view: v}
	i.mu.Unlock()
	return v, nil
}

// heldLocked sums up the mesh's live leaves by the root they chain to.
func (i *Service) heldLocked(mesh string, now time.Time) map[string]heldRoot {
	held := map[string]heldRoot{}
	for _, c := range i.byNode {
		if c.mesh != mesh || !c.live(now) {
			continue
		}
		h := held[c.rootFP]
		h.backend, h.cert, h.leaves = c.backend, c.root, h.leaves+1
		if c.notAfter.After(h.until) {
			h.until = c.notAfter
		}
		h.life = max(h.life, c.notAfter.Sub(c.issuedAt))
		held[c.rootFP] = h
	}
	return held
}

// Forget drops the identities of nodes that no longer exist, cached and stored. It runs at the
// end of every rebuild, and first stores the certificates the rebuild issued.
func (i *Service) Forget(keep map[Dataplane]bool) {
	if failed, err := i.writeIssued(); failed > 0 {
		i.log.Warn("issued identities not stored: a restart would issue them again", "failed", failed, "error", err)
	}
	i.mu.Lock()
	var gone []cachedIdentity
	for node, c := range i.byNode {
		if _, ok := keep[node]; !ok {
			delete(i.byNode, node)
			gone = append(gone, c)
		}
	}
	seen := map[Dataplane]bool{}
	for _, c := range gone {
		seen[Dataplane{c.mesh, c.name}] = true
	}
	for _, c := range i.dropped {
		node := Dataplane{c.mesh, c.name}
		_, kept := keep[node]
		_, reissued := i.byNode[node]
		if !kept && !reissued && !seen[node] {
			seen[node] = true
			gone = append(gone, c)
		}
	}
	i.dropped = nil
	i.mu.Unlock()
	i.clearStored(gone, keep)
}

// DropMesh forgets everything cached for a mesh that was deleted, or deleted and created again
// under the same name: its CA, its trust (retiring roots included) and its dataplanes'
// certificates, so that nothing of the first mesh is served as the second's. It runs at the
// start of a rebuild, before anything is issued.
func (i *Service) DropMesh(mesh string) {
	i.mu.Lock()
	for node, c := range i.byNode {
		if c.mesh == mesh {
			delete(i.byNode, node)
			i.dropped = append(i.dropped, c)
		}
	}
	delete(i.views, mesh)
	i.mu.Unlock()
	i.rootsMu.Lock()
	delete(i.roots, mesh)
	i.rootsMu.Unlock()
	i.rot.forget(mesh)
	i.ca.Forget(mesh)
}

// forget drops a mesh's rotation state, to be read afresh from the store.
func (r *rotations) forget(mesh string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.meshes, mesh)
}

// earliest is the earlier of two times, zero meaning "never".
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
