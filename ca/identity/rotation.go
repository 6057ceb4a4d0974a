package identity

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// rotations keeps, per mesh, which roots its bundle must hold: the roots of the backends the
// Mesh lists, plus "retiring" roots that left the Mesh while handed-out leaves still chain to
// them. Retiring roots are persisted, so a restart keeps trusting them.
type rotations struct {
	ca   *ca.Manager
	opts RotationOptions
	log  *slog.Logger

	mu     sync.Mutex
	meshes map[string]*meshRotation
	// shared: other control planes serve the same meshes (rotation_shared.go).
	shared bool
}

type meshRotation struct {
	// mtls is the Mesh's mtls section as JSON: backend roots are reloaded when it changes.
	mtls      string
	authority ca.Authority
	roots     []ca.BackendRoot
	enabled   ca.BackendRoot
	// enabledSince is when this process first saw the enabled root, for the API.
	enabledSince time.Time
	loaded       bool
	version      int64
	retiring     []*retiringRoot
	view         meshView
}

type retiringRoot struct {
	ca.RetiringRoot
	fp string
	// tracked: this process has seen every leaf chaining to the root since it retired, so the
	// root may go once none is left. A root restored after a restart is not tracked: leaves the
	// previous process handed out are unknown, so it stays until Until.
	tracked bool
	// lastUsed is the last rebuild in which a live leaf chained to it; settle is that leaf's
	// share of propagation time, so the replacing leaf reaches its dataplane before peers stop
	// trusting the old one.
	lastUsed time.Time
	settle   time.Duration
}

// dropAt is when the root may leave the bundle, if no leaf comes to depend on it again.
func (r *retiringRoot) dropAt() time.Time {
	if r.tracked && r.lastUsed.Add(r.settle).Before(r.Until) {
		return r.lastUsed.Add(r.settle)
	}
	return r.Until
}

// heldRoot sums up the live leaves of one mesh that chain to one root.
type heldRoot struct {
	backend string
	cert    *x509.Certificate
	until   time.Time
	life    time.Duration
	leaves  int
}

// meshView is what issuing for one mesh needs during one rebuild. It is never modified after
// it is built, so it is shared without a lock.
type meshView struct {
	authority ca.Authority
	enabled   ca.BackendRoot
	enabledFP string
	byBackend map[string]ca.BackendRoot
	// trusted holds the fingerprints of every root in the bundle.
	trusted   map[string]bool
	bundlePEM string
	// wake is when the next retiring root is due to leave the bundle; zero without one.
	wake time.Time
}

func newRotations(m *ca.Manager, opts RotationOptions, log *slog.Logger) *rotations {
	return &rotations{ca: m, opts: opts, log: log, meshes: map[string]*meshRotation{}}
}

// prepare brings a mesh's trust up to date before a rebuild issues anything for it: roots that
// live leaves still chain to but no backend provides any more become retiring, and retiring
// roots nothing depends on any more are dropped. held is computed from the identity cache
// before any leaf of the rebuild is replaced, so a root is never dropped in the rebuild that
// replaces its last leaf.
func (r *rotations) prepare(ctx context.Context, mesh *api.Mesh, held map[string]heldRoot, now time.Time) (meshView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mr, err := r.load(ctx, mesh, now)
	if err != nil {
		return meshView{}, err
	}
	current := map[string]bool{}
	for _, b := range mr.roots {
		current[ca.Fingerprint(b.Cert)] = true
	}
	next, changed := r.nextRetiring(mr, current, held, now)
	if changed && r.shared {
		next = r.keepStored(ctx, mesh.Name, mr, current, next, now)
	}
	if changed {
		if err := r.save(ctx, mesh.Name, mr, next); err != nil {
			// The bundle stays right in this process; only a restart before the next successful
			// save could forget a root, so issuing goes on.
			r.log.Error("persisting retiring roots", "mesh", mesh.Name, "error", err)
		}
	}
	mr.retiring = next
	if changed || mr.view.bundlePEM == "" {
		if mr.view, err = r.buildView(ctx, mr); err != nil {
			return meshView{}, fmt.Errorf("mesh %s: %w", mesh.Name, err)
		}
	}
	v := mr.view
	for _, rr := range mr.retiring {
		if at := rr.dropAt(); v.wake.IsZero() || at.Before(v.wake) {
			v.wake = at
		}
	}
	return v, nil
}

// load refreshes the mesh's backend roots when its mtls section changed, and reads its retiring
// roots from the store the first time.
func (r *rotations) load(ctx context.Context, mesh *api.Mesh, now time.Time) (*meshRotation, error) {
	mtls, err := json.Marshal(mesh.Spec.MTLS)
	if err != nil {
		return nil, fmt.Errorf("mesh %s: mtls: %w", mesh.Name, err)
	}
	mr := r.meshes[mesh.Name]
	if mr == nil {
		mr = &meshRotation{}
		r.meshes[mesh.Name] = mr
	}
	if !mr.loaded {
		roots, version, err := r.ca.LoadRetiring(ctx, mesh.Name)
		if err != nil {
			return nil, err
		}
		for _, rr := range roots {
			mr.retiring = append(mr.retiring, &retiringRoot{RetiringRoot: rr, fp: ca.Fingerprint(rr.Cert)})
		}
		mr.version, mr.loaded = version, true
	}
	if mr.mtls == string(mtls) {
		return mr, nil
	}
	authority, err := r.ca.For(ctx, mesh)
	if err != nil {
		return nil, fmt.Errorf("mesh %s CA: %w", mesh.Name, err)
	}
	roots, err := r.ca.BackendRoots(ctx, mesh)
	if err != nil {
		return nil, fmt.Errorf("mesh %s CA roots: %w", mesh.Name, err)
	}
	var enabled ca.BackendRoot
	for _, b := range roots {
		if b.Backend == mesh.Spec.MTLS.EnabledBackend {
			enabled = b
		}
	}
	if enabled.Cert == nil {
		return nil, fmt.Errorf("mesh %s: enabledBackend %q is not one of its backends", mesh.Name, mesh.Spec.MTLS.EnabledBackend)
	}
	if mr.enabled.Cert == nil || !mr.enabled.Cert.Equal(enabled.Cert) {
		mr.enabledSince = now
		if mr.enabled.Cert != nil {
			r.log.Info("mesh CA switched; re-issuing leaves", "mesh", mesh.Name, "from", mr.enabled.Backend, "to", enabled.Backend)
		}
	}
	mr.mtls, mr.authority, mr.roots, mr.enabled = string(mtls), authority, roots, enabled
	mr.view = meshView{}
	return mr, nil
}

// nextRetiring computes the retiring roots after this rebuild's bookkeeping, and whether they
// differ from the stored ones (a new root, a dropped root, or a later Until).
func (r *rotations) nextRetiring(mr *meshRotation, current map[string]bool, held map[string]heldRoot, now time.Time) ([]*retiringRoot, bool) {
	changed := false
	byFP := map[string]*retiringRoot{}
	var next []*retiringRoot
	for _, old := range mr.retiring {
		rr := *old
		h, live := held[rr.fp]
		switch {
		case current[rr.fp]:
			// A backend provides it again: it is no longer retiring.
			changed = true
			continue
		case live:
			rr.tracked, rr.lastUsed, rr.settle = !r.shared, now, r.opts.settleFor(h.life)
			if h.until.After(rr.Until) {
				rr.Until, changed = h.until, true
			}
		case !now.Before(rr.dropAt()):
			changed = true
			continue
		}
		byFP[rr.fp] = &rr
		next = append(next, &rr)
	}
	for fp, h := range held {
		if current[fp] || byFP[fp] != nil {
			continue
		}
		rr := &retiringRoot{
			RetiringRoot: ca.RetiringRoot{Backend: h.backend, Cert: h.cert, Until: h.until},
			fp:           fp, tracked: !r.shared, lastUsed: now, settle: r.opts.settleFor(h.life),
		}
		r.log.Info("root retiring: kept in the bundle while leaves chain to it", "backend", h.backend, "sha256", fp, "leaves", h.leaves, "until", h.until)
		next = append(next, rr)
		changed = true
	}
	return next, changed
}

// save persists the retiring roots. Another control plane sharing the store may have written
// in between: its roots are merged in (the later Until wins), since dropping a root it still
// needs would break its dataplanes, and keeping one too long costs nothing.
func (r *rotations) save(ctx context.Context, mesh string, mr *meshRotation, next []*retiringRoot) error {
	out := make([]ca.RetiringRoot, 0, len(next))
	for _, rr := range next {
		out = append(out, rr.RetiringRoot)
	}
	v, err := r.ca.SaveRetiring(ctx, mesh, out, mr.version)
	if errors.Is(err, store.ErrConflict) {
		theirs, version, lerr := r.ca.LoadRetiring(ctx, mesh)
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		v, err = r.ca.SaveRetiring(ctx, mesh, mergeRetiring(out, theirs), version)
	}
	if err != nil {
		return err
	}
	mr.version = v
	return nil
}

func mergeRetiring(ours, theirs []ca.RetiringRoot) []ca.RetiringRoot {
	idx := map[string]int{}
	out := append([]ca.RetiringRoot(nil), ours...)
	for i, rr := range out {
		idx[ca.Fingerprint(rr.Cert)] = i
	}
	for _, rr := range theirs {
		if i, ok := idx[ca.Fingerprint(rr.Cert)]; ok {
			if rr.Until.After(out[i].Until) {
				out[i].Until = rr.Until
			}
			continue
		}
		out = append(out, rr)
	}
	return out
}

func (r *rotations) buildView(ctx context.Context, mr *meshRotation) (meshView, error) {
	bundle, err := mr.authority.Bundle(ctx)
	if err != nil {
		return meshView{}, fmt.Errorf("trust bundle: %w", err)
	}
	v := meshView{
		authority: mr.authority,
		enabled:   mr.enabled,
		enabledFP: ca.Fingerprint(mr.enabled.Cert),
		byBackend: map[string]ca.BackendRoot{},
		trusted:   map[string]bool{},
	}
	for _, b := range mr.roots {
		v.byBackend[b.Backend] = b
	}
	for _, rr := range mr.retiring {
		bundle.AddX509Authority(rr.Cert)
	}
	for _, c := range bundle.X509Authorities() {
		v.trusted[ca.Fingerprint(c)] = true
	}
	pem, err := certs.BundlePEM(bundle)
	if err != nil {
		return meshView{}, err
	}
	v.bundlePEM = string(pem)
	return v, nil
}

// retiringCerts returns the retiring roots this process currently keeps for a mesh.
func (r *rotations) retiringCerts(mesh string) []*x509.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	mr := r.meshes[mesh]
	if mr == nil {
		return nil
	}
	out := make([]*x509.Certificate, 0, len(mr.retiring))
	for _, rr := range mr.retiring {
		out = append(out, rr.Cert)
	}
	return out
}

// reload makes the next prepare load the mesh's backends again although its mtls section did
// not change.
func (r *rotations) reload(mesh string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if mr := r.meshes[mesh]; mr != nil {
		mr.mtls = ""
	}
}
