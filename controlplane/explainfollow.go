package controlplane

import (
	"context"
	"fmt"

	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

// followServed is `explain --follow` on what this control plane serves: each hop's
// configuration is the one its dataplane is served now (real identities, this zone's view of
// the others), not a preview from files.
func (cp *ControlPlane) followServed(ctx context.Context, mesh, name string, req explain.Request) ([]render.Hop, error) {
	m := cp.rec.Model()
	if m == nil {
		return nil, fmt.Errorf("dataplane %s/%s: the control plane has not built its model yet", mesh, name)
	}
	if req.Address == "" && req.Host != "" {
		if ip, ok := render.ResolveHost(m, cp.rec.servedNetwork(), mesh, name, req.Host); ok {
			req.Address = ip.String()
		}
	}
	served := func(mesh, name string) (*render.Output, error) {
		out, err := cp.rec.Output(ctx, names.Node(mesh, name))
		if err == nil && out == nil {
			err = fmt.Errorf("dataplane %s/%s is not served by this control plane", mesh, name)
		}
		return out, err
	}
	return render.Follow(m, mesh, name, req, render.FollowOptions{Served: served})
}

// servedNetwork is the Network of the last rebuild (VIPs, services, exposures), or nil.
func (r *reconciler) servedNetwork() *build.Network {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.world == nil {
		return nil
	}
	return r.world.network
}
