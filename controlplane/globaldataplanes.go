package controlplane

import (
	"context"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/api/rest"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// A global control plane lists every zone's dataplanes but serves none of them: their zone
// does, with the zone's endpoints, ingresses and identities. Rendering one on global would show
// (or serve) a configuration that reaches other zones' instances directly, which is wrong. So
// global refuses xDS streams and the per-dataplane views, naming the zone to ask instead.

// notServedOnGlobal is the error of a per-dataplane view on global.
func (cp *ControlPlane) notServedOnGlobal(mesh, name string) error {
	if m := cp.rec.Model(); m != nil && m.Mesh(mesh) != nil {
		if dp := m.Mesh(mesh).Dataplane(name); dp != nil && dp.Meta.Labels[api.ZoneTag] != "" {
			zone := dp.Meta.Labels[api.ZoneTag]
			return fmt.Errorf("%w: dataplane %s/%s is served by zone %s, not by the global control plane: ask zone %s's control plane",
				rest.ErrServedElsewhere, mesh, name, zone, zone)
		}
	}
	return fmt.Errorf("%w: the global control plane serves no dataplane: ask its zone's control plane", rest.ErrServedElsewhere)
}

// globalRefusesXDS is the xDS authenticator of a global control plane.
func globalRefusesXDS(_ context.Context, node *corev3.Node) error {
	return status.Errorf(codes.FailedPrecondition,
		"node %q: this is the global control plane (run --mode global), which serves no dataplanes; connect the dataplane to its zone's control plane", node.GetId())
}
