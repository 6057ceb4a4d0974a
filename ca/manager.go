package ca

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// Manager builds and caches the Authority of every mesh.
type Manager struct {
	store store.Store
	opts  Options

	mu    sync.Mutex
	cache map[string]cached
	// sources are the files and Secrets backends were loaded from (ReloadChanged).
	sources sourceWatch
}

type cached struct {
	// mtls is the mesh's mtls section as JSON, and its creation time: an Authority is rebuilt
	// when either changes (a mesh re-created under the same name is another mesh).
	mtls string
	ca   *meshCA
	// refreshAt, when set, is when a zone's intermediate reaches 2/3 of its life: the
	// Authority is rebuilt then, which asks global for a new one, even if the mesh never changes.
	refreshAt time.Time
}

// New returns a Manager keeping builtin roots in st.
func New(st store.Store, opts Options) (*Manager, error) {
	if st == nil {
		return nil, errors.New("ca: store is nil")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Manager{store: st, opts: opts, cache: map[string]cached{}}, nil
}

// For returns the mesh's Authority, loading every backend the mesh lists and creating builtin
// roots that do not exist yet. The result is cached until the mesh's mtls section changes, or
// Forget, or a file or Secret it was loaded from changes (ReloadChanged).
func (m *Manager) For(ctx context.Context, mesh *api.Mesh) (Authority, error) {
	if mesh == nil {
		return nil, errors.New("ca: mesh is nil")
	}
	name := mesh.Name
	if !mesh.Spec.MTLSEnabled() {
		return nil, fmt.Errorf("mesh %q: %w", name, ErrMTLSDisabled)
	}
	fp, err := json.Marshal(mesh.Spec.MTLS)
	if err != nil {
		return nil, fmt.Errorf("mesh %q: mtls: %w", name, err)
	}
	fp = append(fp, mesh.CreationTime.UTC().Format(time.RFC3339Nano)...)
	// One lock for all meshes keeps two builds of one mesh from racing; builds are rare (first
	// use, config change) and the store already settles races between processes.
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cache[name]
	if ok && c.mtls == string(fp) && (c.refreshAt.IsZero() || m.opts.Now().Before(c.refreshAt)) {
		return c.ca, nil
	}
	ca, err := m.build(ctx, name, mesh.CreationTime, mesh.Spec.MTLS)
	if err != nil {
		if ok && c.mtls == string(fp) && m.opts.Now().Before(c.ca.issuer.notAfter) {
			// Renewing the zone intermediate failed (global unreachable): keep issuing from
			// the current one while it is valid, and try again at the next call.
			return c.ca, nil
		}
		return nil, err
	}
	m.cache[name] = cached{mtls: string(fp), ca: ca, refreshAt: m.zoneRefreshAt(ca)}
	return ca, nil
}

// Forget drops the cached Authority of a mesh, so that the next For reloads its backends (a
// provided CA's file or Secret changed).
func (m *Manager) Forget(mesh string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cache, mesh)
}

// DeleteMesh deletes what the store keeps for a deleted mesh, the incarnation created at
// created: the roots and keys of the builtin backends named (those stamped with that
// incarnation, or unstamped), and the retiring roots. Another mesh of the same name keeps its
// roots. Deleting what is already gone is not an error.
func (m *Manager) DeleteMesh(ctx context.Context, mesh string, created time.Time, builtinBackends []string) (deleted []string, err error) {
	m.Forget(mesh)
	for _, b := range builtinBackends {
		ok, err := m.deleteBuiltin(ctx, mesh, b, created)
		if err != nil {
			return deleted, fmt.Errorf("mesh %q: deleting the root of backend %q: %w", mesh, b, err)
		}
		if ok {
			deleted = append(deleted, stateKey(mesh, b))
		}
	}
	// Retiring roots are certificates only, and a mesh of this name created a moment ago has
	// no leaves that could have retired a root yet.
	if err := m.store.DeleteState(ctx, retiringKey(mesh), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		return deleted, fmt.Errorf("mesh %q: deleting its retiring roots: %w", mesh, err)
	}
	return deleted, nil
}

func (m *Manager) build(ctx context.Context, mesh string, created time.Time, mtls *api.MTLS) (*meshCA, error) {
	bundle, err := certs.NewBundle(mesh)
	if err != nil {
		return nil, err
	}
	ca := &meshCA{mesh: mesh, bundle: bundle, leafKey: m.opts.LeafKey, backdate: m.opts.Backdate, now: m.opts.Now}
	for _, b := range mtls.Backends {
		be, err := m.loadBackend(ctx, mesh, created, b)
		if err != nil {
			return nil, &BackendError{Mesh: mesh, Backend: b.Name, Type: b.Type, Err: err}
		}
		bundle.AddX509Authority(be.root)
		if b.Name == mtls.EnabledBackend {
			ca.issuer = be
		}
	}
	if ca.issuer == nil {
		return nil, fmt.Errorf("mesh %q: enabledBackend %q is not one of its backends", mesh, mtls.EnabledBackend)
	}
	return ca, nil
}

// loadBackend loads one backend of the mesh incarnation created at created (the Mesh's
// creation time; zero when unknown).
func (m *Manager) loadBackend(ctx context.Context, mesh string, created time.Time, b api.CABackend) (*backend, error) {
	lifetime, err := leafLifetime(b)
	if err != nil {
		return nil, err
	}
	switch b.Type {
	case api.CABackendBuiltin:
		return m.loadBuiltin(ctx, mesh, created, b, lifetime)
	case api.CABackendProvided:
		return m.loadProvided(ctx, mesh, b, lifetime)
	case api.CABackendStepCA:
		return m.loadStepCA(ctx, mesh, b, lifetime)
	default:
		return nil, fmt.Errorf("%w %q", ErrUnsupportedBackend, b.Type)
	}
}

// zoneRefreshAt is when a zone's Authority must fetch a new intermediate: 2/3 into the life of
// the issuing intermediate (zoneChainFresh's rule). Zero outside zone mode.
func (m *Manager) zoneRefreshAt(ca *meshCA) time.Time {
	if m.opts.ZoneIntermediates == nil || ca == nil || ca.issuer == nil || len(ca.issuer.intermediates) == 0 {
		return time.Time{}
	}
	in := ca.issuer.intermediates[0]
	return in.NotBefore.Add(in.NotAfter.Sub(in.NotBefore) * 2 / 3)
}
