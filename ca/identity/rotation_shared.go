package identity

import (
	"context"
	"time"

	"github.com/meshgate/meshgate/ca"
)

// ShareStore tells the service that other control planes serve dataplanes of the same meshes
// (replicas on one PostgreSQL). A retiring root then stays in this replica's bundles until the
// latest expiry of the leaves any replica issued under it (the Until the replicas merge into
// the store), not as soon as this process's own leaves have moved to the new backend: the
// other replicas' dataplanes, re-issued at their own pace, may still present such leaves to
// this replica's. A lone process does not call it and drops a root as soon as it can.
func (i *Service) ShareStore() {
	i.rot.mu.Lock()
	defer i.rot.mu.Unlock()
	i.rot.shared = true
}

// keepStored puts back into next the retiring roots this process would drop that the store
// still keeps for a while (another replica reported leaves under them that live longer). It
// runs under r.mu, only when a rebuild would change the retiring roots.
func (r *rotations) keepStored(ctx context.Context, mesh string, mr *meshRotation, current map[string]bool, next []*retiringRoot, now time.Time) []*retiringRoot {
	kept := map[string]bool{}
	for _, rr := range next {
		kept[rr.fp] = true
	}
	dropping := false
	for _, rr := range mr.retiring {
		if !kept[rr.fp] && !current[rr.fp] {
			dropping = true
		}
	}
	if !dropping {
		return next
	}
	stored, _, err := r.ca.LoadRetiring(ctx, mesh)
	if err != nil {
		// Keep what this process had rather than drop a root another replica may need; the
		// next rebuild asks again.
		r.log.Warn("reading the retiring roots other replicas keep; keeping ours", "mesh", mesh, "error", err)
		for _, rr := range mr.retiring {
			if !kept[rr.fp] && !current[rr.fp] {
				next = append(next, rr)
			}
		}
		return next
	}
	for _, s := range stored {
		fp := ca.Fingerprint(s.Cert)
		if kept[fp] || current[fp] || !now.Before(s.Until) {
			continue
		}
		r.log.Info("retiring root kept: another replica's leaves still chain to it", "mesh", mesh, "backend", s.Backend, "sha256", fp, "until", s.Until)
		next = append(next, &retiringRoot{RetiringRoot: s, fp: fp})
		kept[fp] = true
	}
	return next
}
