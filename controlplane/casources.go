package controlplane

import (
	"context"
	"time"
)

// defaultCASourcePoll is how often the files and Secrets that provided CAs were loaded from are
// checked for changes: renewal tools replace them hours or days ahead of expiry, and a check is a
// stat per file.
const defaultCASourcePoll = 10 * time.Second

// watchCASources checks, every poll interval until ctx ends, the files and Secrets the meshes'
// CA backends were loaded from. When one changed, the mesh's CA is dropped from the caches (the
// CA manager's and the rotation state's) and the returned channel asks for a rebuild, which
// loads it again exactly as if the Mesh had changed: a new root enters the bundle, leaves from
// the old one are re-issued gradually, and the old root retires once none is left.
func (r *reconciler) watchCASources(ctx context.Context) <-chan struct{} {
	rebuild := make(chan struct{}, 1)
	interval := r.caSourcePoll
	if interval <= 0 {
		interval = defaultCASourcePoll
	}
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			changes := r.ids.ca.ReloadChanged(ctx)
			for _, c := range changes {
				r.log.Info("CA backend material changed; reloading the mesh's CA", "mesh", c.Mesh, "sources", c.Sources)
				r.ids.rot.reload(c.Mesh)
			}
			if len(changes) > 0 {
				select {
				case rebuild <- struct{}{}:
				default: // one is pending already
				}
			}
		}
	}()
	return rebuild
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
