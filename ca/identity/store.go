package identity

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// Issued workload certificates are kept in the store's state, one entry per dataplane, so that
// a restarted control plane (or another one sharing a PostgreSQL store) serves the certificate
// the dataplane already has instead of issuing, and pushing, a new one to every Envoy at once.
//
// The entry holds the leaf's private key. The store already holds what is worth more: the
// private keys of the builtin CA roots (ca/<mesh>/<backend>), which can sign any identity of
// the mesh, and the token signing keys; whoever can read the store can mint identities anyway.
// The data dir and the PostgreSQL database must be protected accordingly.
//
// A cache hit touches nothing; a miss reads the entry; an issue writes it once, at the end of
// the rebuild (Forget), in one transaction with the rest of the rebuild's issues
// (writeQueue). When two control planes issue for one dataplane at once, the second write
// conflicts; its writer then writes its entries one by one, and serves the first one's
// certificate from its next rebuild on, so they converge on one.
//
// A forgotten dataplane's entry is deleted. An index lists the dataplanes with an entry, so
// that those deleted while no control plane ran are deleted by the next one. A blank entry (an
// empty value, which versions before state deletes wrote instead) is read as absent.

// identityFormat changes when the document's meaning does; a document of a newer format is
// treated as absent (and overwritten once this control plane issues).
const identityFormat = 1

// identityStateTimeout bounds each store call made at the end of a rebuild (Forget, which has
// no context): a batch of issued certificates or of deletes, or one of them on its own.
const identityStateTimeout = 10 * time.Second

// identityIndexKey cannot clash with an entry: mesh and dataplane names hold no slash, so an
// entry's key always has two.
const identityIndexKey = "identities/index"

func identityStateKey(mesh, dataplane string) string {
	return "identities/" + mesh + "/" + dataplane
}

// storedIdentity is the persisted form of a cachedIdentity. The root is kept by fingerprint:
// it is looked up in the mesh's bundle on load, and a root the mesh no longer trusts makes the
// entry useless.
type storedIdentity struct {
	Format int `json:"format"`
	// Key is what the certificate states: services and tags, as identities compares them.
	Key        string    `json:"key"`
	Chain      string    `json:"chain"`
	PrivateKey string    `json:"privateKey"`
	Backend    string    `json:"backend"`
	RootSHA256 string    `json:"rootSHA256"`
	Spec       string    `json:"spec"`
	IssuedAt   time.Time `json:"issuedAt"`
	NotAfter   time.Time `json:"notAfter"`
	RenewAt    time.Time `json:"renewAt"`
}

type identityIndex struct {
	Format int `json:"format"`
	// Dataplanes are `<mesh>/<dataplane>`, sorted.
	Dataplanes []string `json:"dataplanes"`
}

// indexEntry is a dataplane listed in the index.
type indexEntry struct{ mesh, name string }

func (e indexEntry) node() Dataplane { return Dataplane{e.mesh, e.name} }

// id is how the index lists it: unlike node ids, unambiguous.
func (e indexEntry) id() string { return e.mesh + "/" + e.name }

// storeIndex is this process's copy of the index and the changes it has yet to write, by id.
type storeIndex struct {
	loaded  bool
	version int64 // -1: no index stored yet
	entries map[string]indexEntry
	add     map[string]indexEntry
	remove  map[string]indexEntry
	// spared are entries of deleted dataplanes another control plane rewrote: it clears them.
	spared map[string]bool
	// sweep: entries were read from the store, some of dataplanes this process never saw.
	sweep bool
}

func newStoreIndex() storeIndex {
	return storeIndex{add: map[string]indexEntry{}, remove: map[string]indexEntry{}, spared: map[string]bool{}}
}

// Versions for PutState(s): versionUnknown writes (or deletes) unconditionally (after a
// failed store call), versionAbsent creates.
const (
	versionUnknown int64 = 0
	versionAbsent  int64 = -1
)

// meshRoots are the roots of one mesh's bundle by fingerprint, parsed once per bundle.
type meshRoots struct {
	pem     string
	byFP    map[string]*x509.Certificate
	bundles map[string]*x509bundle.Bundle
}

// readStored returns the dataplane's stored document (nil when absent, blank or unreadable)
// and the entry's version (versionAbsent without one).
func (i *Service) readStored(ctx context.Context, mesh, dataplane string) (*storedIdentity, int64, error) {
	raw, version, err := i.store.GetState(ctx, identityStateKey(mesh, dataplane))
	if errors.Is(err, store.ErrNotFound) {
		return nil, versionAbsent, nil
	}
	if err != nil {
		return nil, versionUnknown, err
	}
	if len(raw) == 0 {
		return nil, version, nil
	}
	var doc storedIdentity
	if err := json.Unmarshal(raw, &doc); err != nil {
		i.log.Warn("stored identity unreadable; a new one will be issued", "mesh", mesh, "dataplane", dataplane, "error", err)
		return nil, version, nil
	}
	if doc.Format > identityFormat {
		i.log.Warn("stored identity has a newer format; a new one will be issued", "mesh", mesh, "dataplane", dataplane, "format", doc.Format)
		return nil, version, nil
	}
	return &doc, version, nil
}

// load reads the dataplane's stored certificate and returns it when it can be served: see
// accept. It also returns the entry's version, for the write that follows an issue.
func (i *Service) load(ctx context.Context, mesh, dataplane string, want subject, v meshView, now time.Time) (cachedIdentity, bool, int64) {
	doc, version, err := i.readStored(ctx, mesh, dataplane)
	if err != nil {
		i.log.Warn("reading stored identity", "mesh", mesh, "dataplane", dataplane, "error", err)
		return cachedIdentity{}, false, versionUnknown
	}
	if doc == nil {
		return cachedIdentity{}, false, version
	}
	c, err := i.accept(doc, mesh, dataplane, want, v, now)
	if err != nil {
		i.log.Debug("stored identity not reused", "mesh", mesh, "dataplane", dataplane, "reason", err)
		return cachedIdentity{}, false, version
	}
	c.version = version
	return c, true, version
}

// accept turns a stored document into a cached identity if it certifies what the dataplane is
// now (key), is still live, chains to the root it names, and that root is in the mesh's
// current bundle; the chain is verified as the CA verifies what it issues, and the key must be
// the leaf's. Whether it is also current (not due for renewal, from the enabled backend) is
// for decide.
func (i *Service) accept(doc *storedIdentity, mesh, dataplane string, want subject, v meshView, now time.Time) (cachedIdentity, error) {
	if doc.Key != want.key {
		return cachedIdentity{}, errors.New("the dataplane's services or tags changed")
	}
	if !v.trusted[doc.RootSHA256] {
		return cachedIdentity{}, errors.New("its root is no longer trusted")
	}
	if !now.Before(doc.NotAfter) {
		return cachedIdentity{}, errors.New("expired")
	}
	root, bundle, err := i.rootOf(mesh, v, doc.RootSHA256)
	if err != nil {
		return cachedIdentity{}, err
	}
	chain, err := certs.ParseCertificates([]byte(doc.Chain))
	if err != nil {
		return cachedIdentity{}, err
	}
	// Against a bundle of only the named root: this proves both that the chain verifies and
	// that the fingerprint the rotation bookkeeping relies on is the right one.
	ids, err := certs.VerifySVID(chain, bundle, now)
	if err != nil {
		return cachedIdentity{}, err
	}
	if len(ids) == 0 || ids[0].TrustDomain().Name() != mesh {
		return cachedIdentity{}, fmt.Errorf("certificate is for %v, not mesh %s", ids, mesh)
	}
	if err := sameURIs(chain[0], mesh, want); err != nil {
		return cachedIdentity{}, err
	}
	priv, err := certs.ParsePrivateKey([]byte(doc.PrivateKey))
	if err != nil {
		return cachedIdentity{}, err
	}
	if err := certs.KeyMatches(chain[0].PublicKey, priv); err != nil {
		return cachedIdentity{}, err
	}
	notAfter := chain[0].NotAfter
	renewAt := doc.RenewAt
	if renewAt.IsZero() || renewAt.After(notAfter) {
		renewAt = notAfter
	}
	return cachedIdentity{
		mesh: mesh, name: dataplane, key: want.key, chain: doc.Chain, keyPEM: doc.PrivateKey,
		backend: doc.Backend, root: root, rootFP: doc.RootSHA256, spec: doc.Spec,
		issuedAt: doc.IssuedAt, notAfter: notAfter, renewAt: renewAt,
	}, nil
}

// sameURIs checks that a leaf states exactly what the dataplane is now.
func sameURIs(leaf *x509.Certificate, mesh string, want subject) error {
	uris, err := certs.Identity{Mesh: mesh, Services: want.services, Tags: want.tags}.URIs()
	if err != nil {
		return err
	}
	if !slices.EqualFunc(uris, leaf.URIs, func(a, b *url.URL) bool { return a.String() == b.String() }) {
		return fmt.Errorf("certificate states %v, the dataplane is %v", leaf.URIs, uris)
	}
	return nil
}

// current: a certificate another control plane wrote may replace one this process would
// otherwise issue, if it needs nothing done to it now.
func (c cachedIdentity) current(want subject, v meshView, now time.Time) bool {
	return c.key == want.key && now.Before(c.renewAt) && v.trusted[c.rootFP] && !c.stale(v)
}

// rootOf finds a root of the mesh's bundle by fingerprint, with a bundle holding only it.
func (i *Service) rootOf(mesh string, v meshView, fp string) (*x509.Certificate, *x509bundle.Bundle, error) {
	i.rootsMu.Lock()
	defer i.rootsMu.Unlock()
	mr := i.roots[mesh]
	if mr == nil || mr.pem != v.bundlePEM {
		cs, err := certs.ParseCertificates([]byte(v.bundlePEM))
		if err != nil {
			return nil, nil, fmt.Errorf("mesh %s bundle: %w", mesh, err)
		}
		mr = &meshRoots{pem: v.bundlePEM, byFP: map[string]*x509.Certificate{}, bundles: map[string]*x509bundle.Bundle{}}
		for _, c := range cs {
			mr.byFP[ca.Fingerprint(c)] = c
		}
		i.roots[mesh] = mr
	}
	root := mr.byFP[fp]
	if root == nil {
		return nil, nil, fmt.Errorf("root %s is not in the mesh's bundle", fp)
	}
	b := mr.bundles[fp]
	if b == nil {
		var err error
		if b, err = certs.NewBundle(mesh, root); err != nil {
			return nil, nil, err
		}
		mr.bundles[fp] = b
	}
	return root, b, nil
}

func encodeIdentity(c cachedIdentity) ([]byte, error) {
	return json.Marshal(storedIdentity{
		Format: identityFormat, Key: c.key, Chain: c.chain, PrivateKey: c.keyPEM, Backend: c.backend,
		RootSHA256: c.rootFP, Spec: c.spec, IssuedAt: c.issuedAt.UTC(), NotAfter: c.notAfter.UTC(), RenewAt: c.renewAt.UTC(),
	})
}

// identityBatch bounds the writes of one store transaction (issued certificates, deleted
// entries): a batch of a whole fleet's renewal would otherwise hold the store's write lock, and
// risk identityStateTimeout, for as long as it takes to write them all.
const identityBatch = 1000

// writeQueue holds the certificates issued during a rebuild, which serves them at once, until
// its end (Forget), which stores them in a few transactions (identityBatch each): a mass issue
// (a fleet's renewal, a first start) then costs little more than the issuing, instead of a
// store commit for every dataplane in turn.
type writeQueue struct {
	mu    sync.Mutex
	queue []pendingWrite
}

type pendingWrite struct {
	c    cachedIdentity
	want subject
	v    meshView
	now  time.Time
}

func (q *writeQueue) enqueue(w pendingWrite) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = append(q.queue, w)
}

// take empties the queue. A dataplane queued twice (by a rebuild that did not get to Forget,
// then by the next) is written once, with its latest certificate.
func (q *writeQueue) take() []pendingWrite {
	q.mu.Lock()
	queue := q.queue
	q.queue = nil
	q.mu.Unlock()
	last := make(map[Dataplane]int, len(queue))
	for n, w := range queue {
		last[Dataplane{w.c.mesh, w.c.name}] = n
	}
	if len(last) == len(queue) {
		return queue
	}
	out := make([]pendingWrite, 0, len(last))
	for n, w := range queue {
		if last[Dataplane{w.c.mesh, w.c.name}] == n {
			out = append(out, w)
		}
	}
	return out
}

// writeIssued stores the queued certificates and returns how many were not stored, and why
// the last one was not. After a store error (not a conflict) the rest is not tried: with the
// store out of reach each batch would wait for its timeout, holding up the rebuild; they are
// tried again in the next one.
func (i *Service) writeIssued() (int, error) {
	pending := i.writes.take()
	failed := 0
	var lastErr error
	for start := 0; start < len(pending); start += identityBatch {
		chunk := pending[start:min(start+identityBatch, len(pending))]
		n, broken, err := i.writeBatch(chunk)
		failed += n
		if err != nil {
			lastErr = err
		}
		if broken {
			rest := pending[start+len(chunk):]
			i.mu.Lock()
			for _, w := range rest {
				i.settleLocked(w, w.c, false)
			}
			i.mu.Unlock()
			failed += len(rest)
			break
		}
	}
	return failed, lastErr
}

// writeBatch stores certificates in one transaction, expecting each entry at the version
// this process last saw. When that fails on a conflict (another control plane wrote some of
// the entries), each is written on its own, as persist resolves conflicts, so that the others
// are not lost. It returns how many were not stored, why, and whether the store failed.
func (i *Service) writeBatch(ws []pendingWrite) (int, bool, error) {
	failed := 0
	var lastErr error
	batch := make([]store.StateWrite, 0, len(ws))
	encoded := make([]pendingWrite, 0, len(ws))
	for _, w := range ws {
		raw, err := encodeIdentity(w.c)
		if err != nil {
			failed, lastErr = failed+1, err
			i.settle(w, w.c, false)
			continue
		}
		batch = append(batch, store.StateWrite{Key: identityStateKey(w.c.mesh, w.c.name), Value: raw, ExpectedVersion: w.c.version})
		encoded = append(encoded, w)
	}
	if len(batch) == 0 {
		return failed, false, lastErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), identityStateTimeout)
	versions, err := i.store.PutStates(ctx, batch)
	cancel()
	switch {
	case err == nil:
		i.mu.Lock()
		for n, w := range encoded {
			c := w.c
			c.version = versions[n]
			i.noteStoredLocked(c.mesh, c.name)
			i.settleLocked(w, c, true)
		}
		i.mu.Unlock()
		return failed, false, lastErr
	case errors.Is(err, store.ErrConflict):
		for n, w := range encoded {
			ctx, cancel := context.WithTimeout(context.Background(), identityStateTimeout)
			c, stored, broken, err := i.persist(ctx, w.c, batch[n].Value, w.want, w.v, w.now)
			cancel()
			i.settle(w, c, stored)
			if err != nil {
				failed, lastErr = failed+1, err
			}
			if broken {
				i.mu.Lock()
				for _, w := range encoded[n+1:] {
					i.settleLocked(w, w.c, false)
				}
				i.mu.Unlock()
				return failed + len(encoded) - n - 1, true, lastErr
			}
		}
		return failed, false, lastErr
	default:
		// It may have been committed all the same (a lost reply): the next writes are blind.
		i.mu.Lock()
		for _, w := range encoded {
			c := w.c
			c.version = versionUnknown
			i.settleLocked(w, c, false)
		}
		i.mu.Unlock()
		return failed + len(encoded), true, err
	}
}

// settle records the outcome of a write in the cache, unless the dataplane's certificate has
// been replaced since it was queued: c is what to keep (ours with its new version, or
// another control plane's), stored whether that is in the store.
func (i *Service) settle(w pendingWrite, c cachedIdentity, stored bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.settleLocked(w, c, stored)
}

func (i *Service) settleLocked(w pendingWrite, c cachedIdentity, stored bool) {
	node := Dataplane{c.mesh, c.name}
	if cur, ok := i.byNode[node]; ok && cur.chain == w.c.chain {
		if c.chain == cur.chain {
			cur.version, cur.unsaved = c.version, !stored
			c = cur
		}
		i.byNode[node] = c
	}
}

// persist writes one certificate this process issued, expecting the entry at c.version. A
// conflict means another control plane wrote one meanwhile: if that one needs nothing done
// to it, it is used instead of ours from the next rebuild on (so all serve the same
// certificate); otherwise ours replaces it. A store failure is returned (broken): the
// certificate is served all the same, and written again in the next rebuild. It returns the
// certificate to keep, whether that is stored, whether the store failed, and why it is not.
func (i *Service) persist(ctx context.Context, c cachedIdentity, raw []byte, want subject, v meshView, now time.Time) (cachedIdentity, bool, bool, error) {
	k := identityStateKey(c.mesh, c.name)
	version := c.version
	for range 3 {
		written, err := i.store.PutState(ctx, k, raw, version)
		if err == nil {
			c.version = written
			i.noteStored(c.mesh, c.name)
			return c, true, false, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			// It may have been written all the same (a lost reply): the next write is blind.
			c.version = versionUnknown
			return c, false, true, err
		}
		theirs, ok, latest := i.load(ctx, c.mesh, c.name, want, v, now)
		if ok && theirs.current(want, v, now) {
			i.noteStored(c.mesh, c.name)
			return theirs, true, false, nil
		}
		version = latest
	}
	return c, false, false, fmt.Errorf("state %s keeps changing", k)
}

// noteStored records that the dataplane has an entry, for the index.
func (i *Service) noteStored(mesh, dataplane string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.noteStoredLocked(mesh, dataplane)
}

func (i *Service) noteStoredLocked(mesh, dataplane string) {
	e := indexEntry{mesh, dataplane}
	delete(i.index.remove, e.id())
	delete(i.index.spared, e.id())
	if _, ok := i.index.entries[e.id()]; !ok {
		i.index.add[e.id()] = e
	}
}

// clearStored deletes the entries of dataplanes that no longer exist: those this process
// cached, and those the index lists (some deleted while no control plane ran), in batches of
// identityBatch. An entry another control plane rewrote since this one last saw it is left
// alone.
func (i *Service) clearStored(gone []cachedIdentity, keep map[Dataplane]bool) {
	i.loadIndex()
	i.mu.Lock()
	var deletes []storeDelete
	seen := map[string]bool{}
	for _, c := range gone {
		e := indexEntry{c.mesh, c.name}
		seen[e.id()] = true
		if c.version == versionAbsent {
			// Never written here (the write failed or lost): someone else's entry, if any.
			continue
		}
		deletes = append(deletes, storeDelete{e, c.version})
	}
	for id, e := range i.index.entries {
		if !i.index.sweep {
			break
		}
		if _, ok := keep[e.node()]; ok || seen[id] || i.index.spared[id] {
			continue
		}
		if _, cached := i.byNode[e.node()]; !cached {
			deletes = append(deletes, storeDelete{e, versionUnknown})
		}
	}
	i.index.sweep = false
	i.mu.Unlock()
	for start := 0; start < len(deletes); start += identityBatch {
		chunk := deletes[start:min(start+identityBatch, len(deletes))]
		if err := i.deleteBatch(chunk); err != nil {
			// The store is out of reach: the index keeps the rest for the next rebuild.
			i.log.Warn("deleting the stored identities of deleted dataplanes", "left", len(deletes)-start, "error", err)
			break
		}
	}
	i.saveIndex()
}

// storeDelete is an entry to delete, expected at version (versionUnknown: whatever it is).
type storeDelete struct {
	e       indexEntry
	version int64
}

// deleteBatch deletes entries in one transaction; when one was rewritten (or deleted) by
// another control plane since this one saw it, each on its own instead. It returns a store
// error, after which the rest is left for the next rebuild.
func (i *Service) deleteBatch(ds []storeDelete) error {
	batch := make([]store.StateWrite, len(ds))
	for n, d := range ds {
		batch[n] = store.StateWrite{Key: identityStateKey(d.e.mesh, d.e.name), ExpectedVersion: d.version, Delete: true}
	}
	ctx, cancel := context.WithTimeout(context.Background(), identityStateTimeout)
	_, err := i.store.PutStates(ctx, batch)
	cancel()
	if err == nil {
		i.mu.Lock()
		for _, d := range ds {
			i.deletedLocked(d.e)
		}
		i.mu.Unlock()
		return nil
	}
	if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for _, d := range ds {
		ctx, cancel := context.WithTimeout(context.Background(), identityStateTimeout)
		err := i.store.DeleteState(ctx, identityStateKey(d.e.mesh, d.e.name), d.version)
		cancel()
		i.mu.Lock()
		switch {
		case err == nil, errors.Is(err, store.ErrNotFound):
			// Not found: another control plane deleted it already.
			i.deletedLocked(d.e)
		case errors.Is(err, store.ErrConflict):
			// Another control plane wrote it since this one last did: it deletes it once it
			// sees the dataplane gone.
			i.index.spared[d.e.id()] = true
		}
		i.mu.Unlock()
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// deletedLocked records that the dataplane's entry is gone, for the index.
func (i *Service) deletedLocked(e indexEntry) {
	delete(i.index.add, e.id())
	i.index.remove[e.id()] = e
}

// loadIndex reads the index once.
func (i *Service) loadIndex() {
	i.mu.Lock()
	loaded := i.index.loaded
	i.mu.Unlock()
	if loaded {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), identityStateTimeout)
	defer cancel()
	entries, version, err := i.readIndex(ctx)
	if err != nil {
		i.log.Warn("reading the identity index", "error", err)
		return
	}
	i.mu.Lock()
	i.index.loaded, i.index.entries, i.index.version, i.index.sweep = true, entries, version, true
	i.mu.Unlock()
}

func (i *Service) readIndex(ctx context.Context) (map[string]indexEntry, int64, error) {
	entries := map[string]indexEntry{}
	raw, version, err := i.store.GetState(ctx, identityIndexKey)
	if errors.Is(err, store.ErrNotFound) {
		return entries, versionAbsent, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if len(raw) == 0 {
		return entries, version, nil
	}
	var idx identityIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", identityIndexKey, err)
	}
	if idx.Format > identityFormat {
		return nil, 0, fmt.Errorf("%s has format %d, this version understands up to %d", identityIndexKey, idx.Format, identityFormat)
	}
	for _, d := range idx.Dataplanes {
		mesh, name, ok := strings.Cut(d, "/")
		if !ok {
			continue
		}
		e := indexEntry{mesh, name}
		entries[e.id()] = e
	}
	return entries, version, nil
}

// saveIndex writes this process's changes to the index onto the stored one: another control
// plane's changes in between are kept.
func (i *Service) saveIndex() {
	ctx, cancel := context.WithTimeout(context.Background(), identityStateTimeout)
	defer cancel()
	i.mu.Lock()
	if !i.index.loaded || len(i.index.add)+len(i.index.remove) == 0 {
		i.mu.Unlock()
		return
	}
	entries, version := i.index.entries, i.index.version
	add, remove := i.index.add, i.index.remove
	i.index.add, i.index.remove = map[string]indexEntry{}, map[string]indexEntry{}
	i.mu.Unlock()

	restore := func() {
		i.mu.Lock()
		defer i.mu.Unlock()
		for n, e := range add {
			if _, ok := i.index.remove[n]; !ok {
				i.index.add[n] = e
			}
		}
		for n, e := range remove {
			if _, ok := i.index.add[n]; !ok {
				i.index.remove[n] = e
			}
		}
	}
	reread := false
	for range 3 {
		next := make(map[string]indexEntry, len(entries)+len(add))
		for n, e := range entries {
			if _, ok := remove[n]; !ok {
				next[n] = e
			}
		}
		for n, e := range add {
			next[n] = e
		}
		if maps.Equal(next, entries) {
			i.mu.Lock()
			i.index.entries, i.index.version = next, version
			i.index.sweep = i.index.sweep || reread
			i.mu.Unlock()
			return
		}
		list := slices.Sorted(maps.Keys(next))
		raw, err := json.Marshal(identityIndex{Format: identityFormat, Dataplanes: list})
		if err != nil {
			i.log.Error("encoding the identity index", "error", err)
			restore()
			return
		}
		written, err := i.store.PutState(ctx, identityIndexKey, raw, version)
		if err == nil {
			i.mu.Lock()
			i.index.entries, i.index.version = next, written
			// Another control plane's entries came in: sweep them in the next rebuild.
			i.index.sweep = i.index.sweep || reread
			i.mu.Unlock()
			return
		}
		if !errors.Is(err, store.ErrConflict) {
			i.log.Warn("writing the identity index", "error", err)
			restore()
			return
		}
		reread = true
		if entries, version, err = i.readIndex(ctx); err != nil {
			i.log.Warn("reading the identity index", "error", err)
			restore()
			return
		}
	}
	i.log.Warn("writing the identity index: it keeps changing")
	restore()
}
