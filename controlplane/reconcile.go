package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

// snapshotSink is the part of the ADS server the reconciler feeds.
type snapshotSink interface {
	SetSnapshot(ctx context.Context, node string, snap *cache.Snapshot) (bool, error)
	ClearSnapshot(node string)
	// Connected reports whether the node has an open stream; Release forgets the snapshot of a
	// node without one (false when a stream is open).
	Connected(node string) bool
	Release(node string) bool
}

// DataplaneState is what the control plane knows of one dataplane. Only connected dataplanes
// are rendered: Diagnostics and Error are those of its last rendering, while it is connected.
type DataplaneState struct {
	Mesh        string           `json:"mesh"`
	Name        string           `json:"name"`
	Node        string           `json:"node"`
	Connected   bool             `json:"connected"`
	Diagnostics []api.FieldError `json:"diagnostics,omitempty"`
	// Error is set when no snapshot could be built; the dataplane keeps its previous one.
	Error    string `json:"error,omitempty"`
	Revision int64  `json:"revision"`
}

// servedNode is what the reconciler keeps of a connected dataplane besides the snapshot the
// server holds: what its configuration depends on, and when its certificate is due.
type servedNode struct {
	deps    *dependencies
	renewAt time.Time
}

// reconciler keeps the configuration of every connected dataplane up to date with the store.
// Cost follows change: a store change is decoded record by record (world.go), only the
// connected dataplanes it may alter are rendered again (impact.go), the replicas of a gateway
// share one rendering (classes.go), and a dataplane is rendered when it connects and forgotten
// when it leaves.
type reconciler struct {
	store store.Store
	sink  snapshotSink
	opts  build.Options
	log   *slog.Logger
	onRun func(time.Duration)
	// onRender counts renderings, shared (a gateway replica's taken from its class) or not.
	onRender func(shared bool)
	// ids issues workload certificates for dataplanes of mTLS meshes.
	ids *identity.Service
	// onModel publishes what is derived from the whole model besides xDS (DNS names, VIPs).
	// Its failure is logged and does not hold back configuration.
	onModel func(context.Context, *model.Model) (*build.Network, error)
	// caSourcePoll is how often provided CA files and Secrets are checked for changes
	// (casources.go); 0 means defaultCASourcePoll.
	caSourcePoll time.Duration
	// keys deletes the key material of deleted meshes and ends the streams of tokens no longer
	// accepted; nil when not wired (tests of the reconciler alone).
	keys *meshKeys
	// presence brings the nodes that connected or left; nil when not wired.
	presence *presence

	// Owned by the loop's goroutine: the decoded records and the classes of the current world.
	decoded decodeCache
	classes map[string]*class
	// denying are the meshes last seen with mTLS and no TrafficPermission (denying all traffic).
	denying map[string]bool
	// ingresses are the nodes of this zone's ZoneIngresses that have a snapshot.
	ingresses map[string]bool
	// rebuilding is set while a rebuild runs (the console shows it).
	rebuilding atomic.Bool

	mu     sync.RWMutex
	world  *world
	states map[string]DataplaneState // every known dataplane, by node
	served map[string]*servedNode    // connected dataplanes with a snapshot, by node
}

// rebuild reads the store and renders every connected dataplane again.
func (r *reconciler) rebuild(ctx context.Context) error {
	return r.refresh(ctx, true)
}

// refresh reads the store into a new world and renders the connected dataplanes the change
// may alter (all of them with force: a certificate renewal or a CA source change). The ADS
// server drops snapshots whose versions did not change, so a dataplane rendered alike gets
// nothing.
func (r *reconciler) refresh(ctx context.Context, force bool) error {
	r.rebuilding.Store(true)
	defer r.rebuilding.Store(false)
	start := time.Now()
	w, err := r.load(ctx)
	if err != nil {
		return err
	}
	m := w.model
	// Before anything is issued: a deleted or re-created mesh's keys must not serve this model.
	r.keys.update(ctx, m)
	r.mu.RLock()
	before := r.world
	r.mu.RUnlock()
	w.network = r.network(ctx, m, before)
	r.warnDenyAll(m)
	r.ids.SetModel(m)
	w.bundles = meshBundles(ctx, r.ids, m, r.log)
	warmAuthorities(ctx, r.ids, m, r.log)
	w.shape = networkShape(w.network, w.bundles)
	var im impact
	if before != nil {
		im = impactOf(before, w, changedKeys(before.versions, w.versions))
	} else {
		im = impactOf(nil, w, nil)
	}
	im.all = im.all || force

	states := map[string]DataplaneState{}
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			node := names.Node(mesh.Name, dp.Name)
			states[node] = DataplaneState{Mesh: mesh.Name, Name: dp.Name, Node: node, Revision: w.revision}
		}
	}
	r.mu.Lock()
	if r.states == nil {
		r.states, r.served = map[string]DataplaneState{}, map[string]*servedNode{}
	}
	for node, st := range r.states {
		if _, ok := states[node]; !ok {
			// Gone from the store: its streams end, and it is told nothing more.
			r.sink.ClearSnapshot(node)
			delete(r.served, node)
			continue
		}
		// Kept until it is rendered again; a dataplane the change does not reach is as it was.
		next := states[node]
		next.Diagnostics, next.Error = st.Diagnostics, st.Error
		states[node] = next
	}
	r.world, r.states = w, states
	r.mu.Unlock()
	r.classes = map[string]*class{}

	var due []identity.Request
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			node := names.Node(mesh.Name, dp.Name)
			r.mu.RLock()
			sv := r.served[node]
			r.mu.RUnlock()
			if sv == nil && !r.sink.Connected(node) || sv != nil && !im.reaches(node, sv.deps) {
				continue
			}
			due = append(due, identity.Request{Mesh: mesh, Dataplane: dp})
		}
	}
	r.renderAll(ctx, w, due)
	r.renderIngresses(ctx, w)
	forgetIdentities(r.ids, states)
	if r.onRun != nil {
		r.onRun(time.Since(start))
	}
	r.log.Debug("reconciled", "revision", w.revision, "dataplanes", len(states), "rendered", len(due), "took", time.Since(start))
	return nil
}

// renderAll renders the dataplanes in w. The certificates they need are issued first, in
// parallel across cores (identity.ForAll: after a CA switch a whole mesh is due at once); each
// rendering then finds its certificate issued.
func (r *reconciler) renderAll(ctx context.Context, w *world, due []identity.Request) {
	var mtls []identity.Request
	for _, req := range due {
		// A proxyless dataplane takes no SDS identity (dataplaneIdentity): none to issue.
		if req.Mesh.MTLSEnabled() && !req.Dataplane.IsProxyless() {
			mtls = append(mtls, req)
		}
	}
	if len(mtls) > 1 {
		r.ids.ForAll(ctx, mtls)
	}
	for _, req := range due {
		r.render(ctx, w, req.Mesh, req.Dataplane)
	}
}

// network publishes the model's names and VIPs (onModel) and returns the network dataplanes
// are built with.
func (r *reconciler) network(ctx context.Context, m *model.Model, before *world) *build.Network {
	if r.onModel != nil {
		network, err := r.onModel(ctx, m)
		if err == nil && network != nil {
			return network
		}
		if err != nil {
			r.log.Error("publishing mesh names", "error", err)
		}
	}
	// VIPs could not be allocated this time (a store error): keep serving the last ones, which
	// DNS still answers with, rather than dropping every transparent outbound.
	var vips map[vip.Key]vip.VIPs
	if before != nil && before.network != nil {
		vips = before.network.VIPs
	}
	table, problems := crossmesh.Resolve(m)
	return build.NewNetwork(m, table, problems, vips)
}

// render builds one dataplane's configuration in world w and hands it to the server. On
// failure the dataplane keeps what it was served and its state says why.
func (r *reconciler) render(ctx context.Context, w *world, mesh *model.Mesh, dp *api.Dataplane) {
	node := names.Node(mesh.Name, dp.Name)
	st := DataplaneState{Mesh: mesh.Name, Name: dp.Name, Node: node, Revision: w.revision}
	fail := func(what string, err error) {
		st.Error = err.Error()
		r.log.Error(what, "node", node, "error", err)
		r.mu.Lock()
		if _, known := r.states[node]; known {
			r.states[node] = st
		}
		r.mu.Unlock()
	}
	// No snapshot goes out without the identity and bundle its mTLS clusters reference: the
	// dataplane keeps its previous configuration instead.
	id, renewAt, err := dataplaneIdentity(ctx, r.ids, mesh, dp)
	if err != nil {
		fail("dataplane identity", err)
		return
	}
	var (
		snap  *cache.Snapshot
		diags []api.FieldError
		deps  *dependencies
		share bool
	)
	key := classKey(mesh, dp, id != nil)
	if c := r.classes[key]; key != "" && c != nil {
		shared, ok, err := c.member(dp, id)
		if err != nil {
			r.log.Warn("sharing a gateway replica's configuration; rendering it alone", "node", node, "error", err)
		}
		if ok {
			snap, diags, deps, share = shared, c.proxy.Diagnostics, c.deps, true
		}
	}
	if snap == nil {
		out, served, err := render.Serve(r.request(w, mesh, dp, id))
		if err != nil {
			fail("building dataplane configuration", err)
			return
		}
		snap, diags = served, out.Proxy.Diagnostics
		deps = dependenciesOf(out.Proxy, dp.Spec.IsBuiltin())
		if key != "" && r.classes[key] == nil {
			r.classes[key] = newClass(dp, out, served, deps)
		}
	}
	if r.onRender != nil {
		r.onRender(share)
	}
	if _, err := r.sink.SetSnapshot(ctx, node, snap); err != nil {
		fail("publishing snapshot", err)
		return
	}
	st.Diagnostics = diags
	r.mu.Lock()
	if _, known := r.states[node]; known {
		r.states[node] = st
		r.served[node] = &servedNode{deps: deps, renewAt: renewAt}
	}
	r.mu.Unlock()
}

func (r *reconciler) request(w *world, mesh *model.Mesh, dp *api.Dataplane, id *build.Identity) build.Request {
	return build.Request{Model: w.model, Mesh: mesh.Name, Name: dp.Name, Options: r.opts, Identity: id, MeshBundles: w.bundles, Network: w.network}
}

// presenceChanges renders the dataplanes that connected since the last call, and forgets those
// that left.
func (r *reconciler) presenceChanges(ctx context.Context) {
	var due []identity.Request
	for _, node := range r.presence.take() {
		if isIngressNode(node) {
			r.ingressPresence(ctx, node)
			continue
		}
		if req := r.presenceChanged(node); req != nil {
			due = append(due, *req)
		}
	}
	if len(due) == 0 {
		return
	}
	r.mu.RLock()
	w, states := r.world, r.states
	r.mu.RUnlock()
	r.renderAll(ctx, w, due)
	// Stores the identities issued to the dataplanes that connected.
	forgetIdentities(r.ids, states)
}

// presenceChanged returns a node that connected to be rendered, and forgets the snapshot of one
// that left.
func (r *reconciler) presenceChanged(node string) *identity.Request {
	r.mu.RLock()
	w := r.world
	st, known := r.states[node]
	served := r.served[node] != nil
	r.mu.RUnlock()
	if r.sink.Connected(node) {
		if served || !known || w == nil {
			// Already served, or not in the store (yet): its stream waits for a snapshot.
			return nil
		}
		mesh := w.model.Mesh(st.Mesh)
		dp := mesh.Dataplane(st.Name)
		if dp == nil {
			return nil
		}
		return &identity.Request{Mesh: mesh, Dataplane: dp}
	}
	if served && r.sink.Release(node) {
		r.mu.Lock()
		delete(r.served, node)
		if s, ok := r.states[node]; ok {
			s.Diagnostics, s.Error = nil, ""
			r.states[node] = s
		}
		r.mu.Unlock()
	}
	return nil
}

// run rebuilds once, then after every store change (coalescing changes that arrive within the
// debounce interval) and whenever a served certificate is due for renewal.
func (r *reconciler) run(ctx context.Context, debounce time.Duration, ready func()) error {
	changes, err := r.store.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watching store: %w", err)
	}
	if r.keys != nil && r.keys.streams != nil {
		stop := r.keys.streams.start(ctx)
		defer stop()
	}
	if err := r.rebuild(ctx); err != nil {
		return err
	}
	ready()
	caChanged := r.watchCASources(ctx)
	var present <-chan struct{}
	if r.presence != nil {
		present = r.presence.signal
	}
	// backoff holds back the renewal timer after a failed refresh: a certificate due while the
	// store is unreachable would otherwise retry at once, in a loop, until it answers.
	var backoff time.Duration
	for {
		renew := r.renewalTimer(backoff)
		force := true
		select {
		case <-ctx.Done():
			return nil
		case <-present:
			r.presenceChanges(ctx)
			continue
		case <-renew:
		case <-caChanged:
		case _, ok := <-changes:
			if !ok {
				return nil
			}
			if !r.debounce(ctx, changes, debounce) {
				return nil
			}
			force = false
		}
		if err := r.refresh(ctx, force); err != nil {
			backoff = min(max(2*backoff, minRetryBackoff), maxRetryBackoff)
			r.log.Error("rebuild failed; keeping the previous configuration", "error", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
	}
}

// debounce absorbs the changes that arrive within one interval of the first, so a burst is one
// rebuild; the window does not extend, so a steady stream of changes cannot starve rebuilds.
// It returns false when ctx ends or the store stops watching.
func (r *reconciler) debounce(ctx context.Context, changes <-chan int64, interval time.Duration) bool {
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case _, ok := <-changes:
			if !ok {
				return false
			}
		case <-timer.C:
			return true
		}
	}
}

// The bounds of the retry backoff after a failed refresh.
const (
	minRetryBackoff = 100 * time.Millisecond
	maxRetryBackoff = 5 * time.Second
)

// renewalTimer fires when the earliest served certificate is due, but not sooner than
// notBefore from now; nil (never) without one.
func (r *reconciler) renewalTimer(notBefore time.Duration) <-chan time.Time {
	r.mu.RLock()
	var at time.Time
	for _, sv := range r.served {
		if !sv.renewAt.IsZero() && (at.IsZero() || sv.renewAt.Before(at)) {
			at = sv.renewAt
		}
	}
	r.mu.RUnlock()
	if at.IsZero() {
		return nil
	}
	return time.After(max(time.Until(at), notBefore))
}

// Dataplanes returns the state of every dataplane after the last rebuild, by node.
func (r *reconciler) Dataplanes() []DataplaneState {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]DataplaneState, 0, len(r.states))
	for node, s := range r.states {
		s.Connected = r.sink.Connected(node)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// Output renders a known dataplane's configuration as it is, or would be, served (nil when the
// dataplane is unknown or cannot be rendered). Connected or not, the configuration is rendered
// on demand: what is served is kept only in its sealed form.
func (r *reconciler) Output(ctx context.Context, node string) (*render.Output, error) {
	r.mu.RLock()
	w := r.world
	st, ok := r.states[node]
	r.mu.RUnlock()
	if !ok || w == nil {
		return nil, nil
	}
	mesh := w.model.Mesh(st.Mesh)
	dp := mesh.Dataplane(st.Name)
	if dp == nil {
		return nil, nil
	}
	id, _, err := dataplaneIdentity(ctx, r.ids, mesh, dp)
	if err != nil {
		return nil, fmt.Errorf("dataplane identity: %w", err)
	}
	return render.Render(r.request(w, mesh, dp, id))
}

// Model returns the model of the last rebuild.
func (r *reconciler) Model() *model.Model {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.world == nil {
		return nil
	}
	return r.world.model
}

// warnDenyAll warns, once per mesh until it changes, that an mTLS mesh without any
// TrafficPermission denies all inbound traffic (meshgate adds no default permission, as Kuma
// 2.x): users should learn it from the log, not from refused connections.
func (r *reconciler) warnDenyAll(m *model.Model) {
	now := map[string]bool{}
	for _, mesh := range m.Meshes() {
		if !mesh.DeniesAll() {
			continue
		}
		now[mesh.Name] = true
		if !r.denying[mesh.Name] {
			r.log.Warn(render.DenyAllWarning(mesh.Name), "mesh", mesh.Name)
		}
	}
	r.denying = now
}
