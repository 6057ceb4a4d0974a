package controlplane

import (
	"context"
	"sync"

	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
)

// renderedGateway is what the console's gateway view takes from a replica's rendering.
type renderedGateway struct {
	routes   []routeTableSummary
	policies *explain.PolicyReport
	err      error
	rendered bool
}

// gatewayRenders keeps, per replica node, what the console showed for the last rebuild: a
// console polls every 2 s, and rendering every gateway on each poll would cost as much as a
// rebuild while nothing changed. A new rebuild (revision) drops everything.
type gatewayRenders struct {
	mu       sync.Mutex
	revision int64
	byNode   map[string]renderedGateway
}

func (cp *ControlPlane) renderedGateway(ctx context.Context, mesh, name string) renderedGateway {
	node := names.Node(mesh, name)
	rev := cp.rec.revision()
	c := &cp.consoleRenders
	c.mu.Lock()
	if c.revision != rev || c.byNode == nil {
		c.revision, c.byNode = rev, map[string]renderedGateway{}
	}
	g, ok := c.byNode[node]
	c.mu.Unlock()
	if ok {
		return g
	}
	out, err := cp.rec.Output(ctx, node)
	switch {
	case err != nil:
		g.err = err
	case out != nil:
		g = renderedGateway{routes: routeTables(out.Resources), policies: explain.Policies(out.Resources), rendered: true}
	}
	c.mu.Lock()
	if c.revision == rev {
		c.byNode[node] = g
	}
	c.mu.Unlock()
	return g
}

// revision is the revision of the last rebuild's world (0 before the first).
func (r *reconciler) revision() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.world == nil {
		return 0
	}
	return r.world.revision
}
