package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
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
}

// DataplaneState is what the last rebuild produced for one dataplane.
type DataplaneState struct {
	Mesh        string           `json:"mesh"`
	Name        string           `json:"name"`
	Node        string           `json:"node"`
	Diagnostics []api.FieldError `json:"diagnostics,omitempty"`
	// Error is set when no snapshot could be built; the dataplane keeps its previous one.
	Error    string `json:"error,omitempty"`
	Revision int64  `json:"revision"`
}

// reconciler rebuilds every dataplane's snapshot from the store.
type reconciler struct {
	store store.Store
	sink  snapshotSink
	opts  build.Options
	log   *slog.Logger
	onRun func(time.Duration)
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

	mu       sync.RWMutex
	states   map[string]DataplaneState // by node
	outputs  map[string]*render.Output // what each node is being served, by node
	revision int64
	model    *model.Model
	// denying are the meshes last seen with mTLS and no TrafficPermission (denying all traffic).
	denying map[string]bool
	// network is the last cross-mesh table and VIP set dataplanes were built with.
	network *build.Network
	// renewal is the earliest time a served certificate must be renewed.
	renewal time.Time
}

// rebuild reads the whole store and pushes a snapshot to every dataplane. The ADS server
// drops snapshots whose versions did not change, so untouched dataplanes get nothing.
func (r *reconciler) rebuild(ctx context.Context) error {
	start := time.Now()
	snap, err := r.store.All(ctx)
	if err != nil {
		return fmt.Errorf("reading store: %w", err)
	}
	m := decodeModel(snap.Records, r.log)
	// Before anything is issued: a deleted or re-created mesh's keys must not serve this model.
	r.keys.update(ctx, m)
	var network *build.Network
	if r.onModel != nil {
		var err error
		if network, err = r.onModel(ctx, m); err != nil {
			r.log.Error("publishing mesh names", "error", err)
		}
	}
	if network == nil {
		// VIPs could not be allocated this time (a store error): keep serving the last ones,
		// which DNS still answers with, rather than dropping every transparent outbound.
		var vips map[vip.Key]vip.VIPs
		if r.network != nil {
			vips = r.network.VIPs
		}
		table, problems := crossmesh.Resolve(m)
		network = build.NewNetwork(m, table, problems, vips)
	}
	r.network = network
	r.warnDenyAll(m)
	r.ids.SetModel(m)
	bundles := meshBundles(ctx, r.ids, m, r.log)
	var renewal time.Time
	states := map[string]DataplaneState{}
	outputs := map[string]*render.Output{}
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			node := names.Node(mesh.Name, dp.Name)
			st := DataplaneState{Mesh: mesh.Name, Name: dp.Name, Node: node, Revision: snap.Revision}
			// No snapshot goes out without the identity and bundle its mTLS clusters reference:
			// the dataplane keeps its previous configuration instead.
			id, renewAt, err := dataplaneIdentity(ctx, r.ids, mesh, dp)
			if err != nil {
				st.Error = err.Error()
				r.log.Error("dataplane identity", "node", node, "error", err)
				states[node] = st
				continue
			}
			if !renewAt.IsZero() && (renewal.IsZero() || renewAt.Before(renewal)) {
				renewal = renewAt
			}
			out, err := render.Render(build.Request{Model: m, Mesh: mesh.Name, Name: dp.Name, Options: r.opts, Identity: id, MeshBundles: bundles, Network: network})
			if err != nil {
				st.Error = err.Error()
				r.log.Error("building dataplane configuration", "node", node, "error", err)
				states[node] = st
				continue
			}
			st.Diagnostics = out.Proxy.Diagnostics
			if _, err := r.sink.SetSnapshot(ctx, node, out.Snapshot); err != nil {
				st.Error = err.Error()
				r.log.Error("publishing snapshot", "node", node, "error", err)
			} else {
				outputs[node] = out
			}
			states[node] = st
		}
	}
	r.mu.Lock()
	for node := range r.states {
		if _, ok := states[node]; !ok {
			r.sink.ClearSnapshot(node)
		}
	}
	for node, out := range r.outputs {
		// A dataplane whose rebuild failed keeps being served its previous snapshot.
		if _, ok := outputs[node]; !ok && states[node].Error != "" {
			outputs[node] = out
		}
	}
	r.states, r.outputs, r.revision, r.model, r.renewal = states, outputs, snap.Revision, m, renewal
	r.mu.Unlock()
	forgetIdentities(r.ids, states)
	if r.onRun != nil {
		r.onRun(time.Since(start))
	}
	r.log.Debug("reconciled", "revision", snap.Revision, "dataplanes", len(states), "took", time.Since(start))
	return nil
}

// decodeModel turns stored records back into a model. Records were validated when written, so
// a record that no longer decodes (written by a newer meshgate, say) is logged and skipped
// rather than stopping every other dataplane's updates.
func decodeModel(records []store.Record, log *slog.Logger) *model.Model {
	var objs []api.Object
	for _, rec := range records {
		src := fmt.Sprintf("store:%s/%s/%s", rec.Kind, rec.Mesh, rec.Name)
		decoded, errs := api.Decode(src, rec.Spec)
		if len(errs) > 0 {
			log.Error("stored resource no longer valid; ignored", "resource", src, "error", errs)
			continue
		}
		for _, o := range decoded {
			o.GetMeta().CreationTime = rec.CreationTime
		}
		objs = append(objs, decoded...)
	}
	m, errs := model.Build(objs)
	for _, e := range errs {
		log.Error("resource ignored", "error", e.Error())
	}
	return m
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
	for {
		renew := r.renewalTimer()
		select {
		case <-ctx.Done():
			return nil
		case <-renew:
		case <-caChanged:
		case _, ok := <-changes:
			if !ok {
				return nil
			}
			if !r.debounce(ctx, changes, debounce) {
				return nil
			}
		}
		if err := r.rebuild(ctx); err != nil {
			r.log.Error("rebuild failed; keeping the previous configuration", "error", err)
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

// renewalTimer fires when the earliest served certificate is due; nil (never) without one.
func (r *reconciler) renewalTimer() <-chan time.Time {
	r.mu.RLock()
	at := r.renewal
	r.mu.RUnlock()
	if at.IsZero() {
		return nil
	}
	return time.After(time.Until(at))
}

// Dataplanes returns the state of every dataplane after the last rebuild, by node.
func (r *reconciler) Dataplanes() []DataplaneState {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]DataplaneState, 0, len(r.states))
	for _, s := range r.states {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// Output returns what a node is being served, or nil.
func (r *reconciler) Output(node string) *render.Output {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.outputs[node]
}

// Model returns the model of the last rebuild.
func (r *reconciler) Model() *model.Model {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.model
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
