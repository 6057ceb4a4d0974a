package bootstrap

import (
	"errors"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/names"
)

// subject is who the bootstrap is for: a dataplane, or a ZoneIngress (node `.<name>`, no mesh).
type subject struct {
	display, node, cluster string
	adminPort              uint32
	metadata               map[string]any
}

func subjectOf(req Request) (subject, error) {
	switch {
	case (req.Dataplane == nil) == (req.ZoneIngress == nil):
		return subject{}, errors.New("bootstrap: want exactly one of a Dataplane and a ZoneIngress")
	case req.ZoneIngress != nil:
		zi := req.ZoneIngress
		s := subject{display: zi.Meta.DisplayName(), node: names.ZoneIngressNode(zi.Name), cluster: zi.Name,
			metadata: map[string]any{"meshgate.name": zi.Name, "meshgate.kind": string(api.KindZoneIngress)}}
		if n := zi.Spec.Networking; n != nil && n.Admin != nil {
			s.adminPort = n.Admin.Port
		}
		return s, nil
	}
	dp := req.Dataplane
	spec, err := api.Encode(dp)
	if err != nil {
		return subject{}, err
	}
	s := subject{display: dp.Meta.DisplayName(), node: names.Node(dp.Mesh, dp.Name), cluster: serviceOf(dp),
		metadata: map[string]any{"dataplane.resource": string(spec), "meshgate.mesh": dp.Mesh, "meshgate.name": dp.Name}}
	if dp.Spec.Networking.Admin != nil {
		s.adminPort = dp.Spec.Networking.Admin.Port
	}
	return s, nil
}
