package controlplane

import (
	"context"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

// A zone control plane serves its own ZoneIngresses' Envoys (node `.<name>`) beside its
// dataplanes. An ingress's configuration depends on every service of the zone, so it is
// rendered again on every rebuild while connected; there are a few ingresses per zone and the
// server pushes nothing when the content is unchanged.

// isIngressNode reports whether node names a ZoneIngress rather than a dataplane.
func isIngressNode(node string) bool {
	mesh, name, ok := api.SplitNodeID(node)
	return ok && mesh == "" && name != ""
}

// localIngresses are this zone's ZoneIngresses in w, by node.
func (r *reconciler) localIngresses(w *world) map[string]*api.ZoneIngress {
	out := map[string]*api.ZoneIngress{}
	if r.opts.Zone == "" || w == nil {
		return out
	}
	for _, zi := range w.model.ZoneIngresses() {
		if zi.Spec.Zone == "" || zi.Spec.Zone == r.opts.Zone {
			out[names.ZoneIngressNode(zi.Name)] = zi
		}
	}
	return out
}

// renderIngresses serves every connected local ingress in w and ends the streams of those no
// longer in the store.
func (r *reconciler) renderIngresses(ctx context.Context, w *world) {
	local := r.localIngresses(w)
	for node := range r.ingresses {
		if local[node] == nil {
			r.sink.ClearSnapshot(node)
			delete(r.ingresses, node)
		}
	}
	for node, zi := range local {
		if r.sink.Connected(node) {
			r.renderIngress(ctx, w, node, zi)
		}
	}
}

// ingressPresence renders an ingress that connected and forgets one that left.
func (r *reconciler) ingressPresence(ctx context.Context, node string) {
	if !r.sink.Connected(node) {
		if r.sink.Release(node) {
			delete(r.ingresses, node)
		}
		return
	}
	r.mu.RLock()
	w := r.world
	r.mu.RUnlock()
	if zi := r.localIngresses(w)[node]; zi != nil {
		r.renderIngress(ctx, w, node, zi)
	}
}

func (r *reconciler) renderIngress(ctx context.Context, w *world, node string, zi *api.ZoneIngress) {
	_, served, err := render.ZoneIngress(build.ZoneIngressRequest{Model: w.model, Name: zi.Name, Network: w.network}, true)
	if err != nil {
		r.log.Error("building ZoneIngress configuration", "node", node, "error", err)
		return
	}
	if _, err := r.sink.SetSnapshot(ctx, node, served); err != nil {
		r.log.Error("publishing ZoneIngress snapshot", "node", node, "error", err)
		return
	}
	if r.ingresses == nil {
		r.ingresses = map[string]bool{}
	}
	r.ingresses[node] = true
}
