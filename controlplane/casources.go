package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/model"
)

// defaultCASourcePoll is how often the files and Secrets that provided CAs were loaded from are
// checked for changes: renewal tools replace them hours or days ahead of expiry, and a check is a
// stat per file.
const defaultCASourcePoll = 10 * time.Second

// watchCASources checks, every poll interval until ctx ends, the files and Secrets the meshes'
// CA backends were loaded from. When one changed, the mesh's CA is dropped from the caches (the
// CA manager's and the rotation state's) and the returned channel asks for a rebuild, which
// loads it again exactly as if the Mesh had changed: a new root enters the bundle, leaves from
// the old one are re-issued gradually, and the old root retires once none is left. It also
// logs meshes that trust the same root, as `meshgate validate` warns of them.
func (r *reconciler) watchCASources(ctx context.Context) <-chan struct{} {
	rebuild := make(chan struct{}, 1)
	interval := r.caSourcePoll
	if interval <= 0 {
		interval = defaultCASourcePoll
	}
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		var roots sharedRootLog
		for {
			roots.update(ctx, r.Model(), r.log)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			changes := r.ids.ReloadChanged(ctx)
			for _, c := range changes {
				r.log.Info("CA backend material changed; reloading the mesh's CA", "mesh", c.Mesh, "sources", c.Sources)
			}
			if len(changes) > 0 {
				roots.model = nil // the roots themselves may have changed
				select {
				case rebuild <- struct{}{}:
				default: // one is pending already
				}
			}
		}
	}()
	return rebuild
}

// sharedRootLog warns, once per warning, of meshes whose provided CA backends hold the same root
// (ca.SharedRoots), with the text `meshgate validate` prints, without its file locations: the
// control plane reads resources from the store.
type sharedRootLog struct {
	// model is the model last checked: the check runs again when it or a CA source changes.
	model *model.Model
	said  map[string]bool
}

func (l *sharedRootLog) update(ctx context.Context, m *model.Model, log *slog.Logger) {
	if m == nil || m == l.model {
		return
	}
	l.model = m
	var meshes []*api.Mesh
	for _, mesh := range m.Meshes() {
		meshes = append(meshes, mesh.Resource)
	}
	now := map[string]bool{}
	for _, s := range ca.SharedRoots(ca.ProvidedRoots(ctx, meshes, modelSecrets(m))) {
		w := s.Warning(false)
		now[w] = true
		if l.said[w] {
			continue
		}
		names := make([]string, 0, len(s.Uses))
		for _, u := range s.Uses {
			names = append(names, u.Mesh.Name+"/"+u.Backend)
		}
		log.Warn(w, "backends", names, "sha256", ca.Fingerprint(s.Root))
	}
	// A warning that went away and comes back is said again.
	l.said = now
}

// modelSecrets resolves `secret:` data sources from m's Secrets.
func modelSecrets(m *model.Model) ca.SecretResolver {
	return func(_ context.Context, mesh, name string) ([]byte, error) {
		if m.Mesh(mesh) == nil || m.Mesh(mesh).Secrets[name] == nil {
			return nil, fmt.Errorf("secret %q not found in mesh %q", name, mesh)
		}
		return m.Mesh(mesh).Secrets[name].Spec.Bytes()
	}
}
