package controlplane

import (
	"context"
	"fmt"
	"net/http"

	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
	xdsserver "github.com/meshgate/meshgate/xds/server"
)

func (cp *ControlPlane) apiHandler() http.Handler {
	return rest.NewHandler(rest.Options{
		Store:      cp.store,
		Render:     cp.renderDataplane,
		Inspect:    cp.inspectDataplane,
		AdminToken: cp.cfg.AdminToken,
		Logger:     cp.log,
		Writable:   writable(cp.kube != nil, cp.mode, cp.cfg.MultiZone.Zone),
	})
}

// renderDataplane answers GET .../xds in `meshgate render`'s format with the snapshot the
// dataplane is being served (private keys redacted).
func (cp *ControlPlane) renderDataplane(ctx context.Context, mesh, name string) (any, error) {
	if cp.mode == ModeGlobal {
		return nil, cp.notServedOnGlobal(mesh, name)
	}
	out, err := cp.rec.Output(ctx, names.Node(mesh, name))
	if err != nil {
		return nil, fmt.Errorf("dataplane %s/%s: %w", mesh, name, err)
	}
	if out == nil {
		return nil, fmt.Errorf("dataplane %s/%s: %w", mesh, name, store.ErrNotFound)
	}
	return render.NewDocument(out.Resources)
}

// Inspection is the control plane's view of one dataplane.
type Inspection struct {
	DataplaneState
	XDS *xdsserver.NodeStatus `json:"xds,omitempty"`
	// Policies are the connection policy decisions recorded in the resources the dataplane is
	// being served: per route, TCP filter chain and cluster, with the settings they became.
	Policies *explain.PolicyReport `json:"policies,omitempty"`
}

func (cp *ControlPlane) inspectDataplane(ctx context.Context, mesh, name string) (any, error) {
	if cp.mode == ModeGlobal {
		return nil, cp.notServedOnGlobal(mesh, name)
	}
	node := names.Node(mesh, name)
	for _, st := range cp.rec.Dataplanes() {
		if st.Node != node {
			continue
		}
		in := Inspection{DataplaneState: st}
		// Rendered now, connected or not: the diagnostics and policies are the current ones.
		out, err := cp.rec.Output(ctx, node)
		if err != nil {
			in.Error = err.Error()
		} else if out != nil {
			in.Diagnostics = out.Proxy.Diagnostics
			in.Policies = explain.Policies(out.Resources)
		}
		for _, ns := range cp.xds.Nodes() {
			if ns.Node == node {
				ns := ns
				in.XDS = &ns
			}
		}
		return in, nil
	}
	return nil, fmt.Errorf("dataplane %s/%s: %w", mesh, name, store.ErrNotFound)
}
