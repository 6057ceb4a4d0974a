package identity

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshgate/meshgate/model"
)

// Result is one dataplane's answer from ForAll: what For returns for it.
type Result struct {
	Identity *Identity
	Wake     time.Time
	Err      error
}

// ForAll is For for many dataplanes of one rebuild at once, answered in the order asked. The
// certificates due (new dataplanes, renewals, re-issues after a CA switch) are issued on up to
// GOMAXPROCS goroutines: signing is CPU-bound, and after a switch a whole mesh becomes due
// within a few rebuilds. What is decided stays decided as For decides it, one dataplane at a
// time under the service's lock: the re-issue schedule, the rate limit's tokens (so a switch
// moves no more leaves per second than RotationOptions allow) and the cache. Only the signing,
// and reading stored certificates, run side by side. Requests should name distinct dataplanes.
func (i *Service) ForAll(ctx context.Context, reqs []Request) []Result {
	out := make([]Result, len(reqs))
	// Each mesh's trust is prepared first, once, as For would at its first dataplane: from the
	// leaves held before this rebuild replaces any, and without two workers preparing one mesh
	// at the same time. A mesh whose preparation fails is left to For, which reports the error
	// on each of its dataplanes as it does one by one.
	prepared := map[*model.Mesh]bool{}
	for _, r := range reqs {
		if r.Mesh.MTLSEnabled() && !prepared[r.Mesh] {
			prepared[r.Mesh] = true
			_, _ = i.view(ctx, r.Mesh)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(reqs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(reqs) {
					return
				}
				r := &out[n]
				r.Identity, r.Wake, r.Err = i.forDataplane(ctx, reqs[n].Mesh, reqs[n].Dataplane)
			}
		})
	}
	wg.Wait()
	return out
}
