package gatewayinstance

import (
	"context"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Gateways is a source of MeshGateways other than the cluster's kuma.io objects: in a
// Kubernetes zone of a multi-zone deployment the MeshGateways are created on global and reach
// the zone over KDS, while the MeshGatewayInstances that give them capacity are the zone
// cluster's.
type Gateways interface {
	// Gateways returns the valid MeshGateways now; the controller does not modify them.
	Gateways() []*api.MeshGateway
	// Changed receives a value whenever Gateways may return something else (coalesced: one
	// value may stand for many changes).
	Changed() <-chan struct{}
}

// followGateways rechecks every instance when the MeshGateways change, as the informer's
// handlers do for the cluster's.
func (c *Controller) followGateways(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.opts.Gateways.Changed():
			c.enqueueAll()
		}
	}
}
