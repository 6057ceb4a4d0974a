package crossmesh

import (
	"fmt"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// owner is the gateway that holds a cross-mesh name.
type owner struct {
	mesh, gateway string
	ports         map[uint32]int // port → listener index
}

// arbitrate gives each cross-mesh name to one gateway across all meshes. Kuma lets two meshes
// claim one hostname and then drops one VIP entry depending on map order (docs/kuma-compatibility.md#cross-mesh-names); here the
// oldest claim keeps the name, so adding a gateway can never take a working name away. Generated
// names go first: they are the only name such a listener has, and dots in mesh and gateway
// names make `internal.a.b.c.mesh` reachable from two pairs.
func arbitrate(cands []candidate) ([]Exposure, []api.FieldError) {
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Internal != b.Internal {
			return a.Internal
		}
		if !a.gw.CreationTime.Equal(b.gw.CreationTime) {
			return a.gw.CreationTime.Before(b.gw.CreationTime)
		}
		if a.Mesh != b.Mesh {
			return a.Mesh < b.Mesh
		}
		if a.Gateway != b.Gateway {
			return a.Gateway < b.Gateway
		}
		return a.Listener < b.Listener
	})
	owners := map[string]*owner{}
	var (
		out      []Exposure
		problems []api.FieldError
	)
	for _, c := range cands {
		o := owners[c.Name]
		if o == nil {
			o = &owner{mesh: c.Mesh, gateway: c.Gateway, ports: map[uint32]int{}}
			owners[c.Name] = o
		}
		var msg string
		switch idx, taken := o.ports[c.Port]; {
		case o.mesh != c.Mesh || o.gateway != c.Gateway:
			msg = fmt.Sprintf("name %q is already exposed by MeshGateway %s/%s", c.Name, o.mesh, o.gateway)
		case taken:
			// One name and port can lead to one listener only; the VIP outbound has one cluster.
			msg = fmt.Sprintf("name %q port %d is already exposed by conf.listeners[%d]", c.Name, c.Port, idx)
		}
		if msg != "" {
			problems = append(problems, c.gw.Problem(listenerField(c.Listener, nameField(c.Internal)), msg))
			continue
		}
		o.ports[c.Port] = c.Listener
		out = append(out, c.Exposure)
	}
	return out, problems
}

func nameField(internal bool) string {
	if internal {
		return "crossMesh"
	}
	return "hostname"
}
