package controlplane

import (
	"context"
	"fmt"
	"net"
	"strings"

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
		if ip, ok := cp.resolveServedHost(mesh, name, req.Host); ok {
			req.Address = ip
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

// resolveServedHost is the VIP a transparent dataplane's application reaches host at, as the
// embedded DNS answers it: where explain's first hop starts (the CLI does the same with -f).
func (cp *ControlPlane) resolveServedHost(mesh, name, host string) (string, bool) {
	m := cp.rec.Model()
	ms := m.Mesh(mesh)
	if ms == nil {
		return "", false
	}
	if dp := ms.Dataplane(name); dp == nil || dp.Spec.Networking.TransparentProxying == nil {
		return "", false
	}
	n := cp.rec.servedNetwork()
	if n == nil {
		return "", false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, ok := n.Resolve(mesh, strings.ToLower(strings.TrimSuffix(host, ".")))
	if !ok {
		return "", false
	}
	return ip.String(), true
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
