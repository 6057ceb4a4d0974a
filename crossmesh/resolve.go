package crossmesh

import (
	"fmt"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
)

// Resolve builds the cross-mesh table of m. It never fails as a whole: a listener or service
// name that cannot be published becomes a problem (an api.FieldError located in the resource
// that loses the name) and is left out, so one bad gateway cannot take every other mesh's
// names down with it.
func Resolve(m *model.Model) (*Table, []api.FieldError) {
	var (
		problems   []api.FieldError
		candidates []candidate
	)
	for _, mesh := range m.Meshes() {
		for _, gw := range mesh.Gateways {
			c, ps := gatewayCandidates(mesh, gw)
			candidates = append(candidates, c...)
			problems = append(problems, ps...)
		}
	}
	exposures, ps := arbitrate(candidates)
	problems = append(problems, ps...)
	services, ps := serviceNames(m, exposures)
	problems = append(problems, ps...)
	hosts, ps := hostNames(m, exposures, services)
	problems = append(problems, ps...)

	sort.Slice(exposures, func(i, j int) bool {
		a, b := exposures[i], exposures[j]
		if a.Mesh != b.Mesh {
			return a.Mesh < b.Mesh
		}
		if a.Gateway != b.Gateway {
			return a.Gateway < b.Gateway
		}
		return a.Listener < b.Listener
	})
	sortProblems(problems)
	return &Table{Exposures: exposures, Services: services, Hosts: hosts}, problems
}

// candidate is an exposure before cross-mesh name arbitration.
type candidate struct {
	Exposure
	gw *api.MeshGateway
}

func gatewayCandidates(mesh *model.Mesh, gw *api.MeshGateway) ([]candidate, []api.FieldError) {
	if gw.Spec.Conf == nil {
		return nil, nil
	}
	first := -1
	for i, l := range gw.Spec.Conf.Listeners {
		if l.CrossMesh {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, nil
	}
	problem := func(msg string, args ...any) []api.FieldError {
		return []api.FieldError{gw.Problem(listenerField(first, "crossMesh"), fmt.Sprintf(msg, args...))}
	}
	if !mesh.MTLSEnabled() {
		// Clients verify the gateway's SVID; without a CA in its mesh there is none to present.
		return nil, problem("mesh %q must have mTLS enabled to expose cross-mesh listeners", mesh.Name)
	}
	bound := mesh.GatewayDataplanes(gw)
	service, err := gatewayService(gw, bound)
	if err != nil {
		return nil, problem("%v", err)
	}
	id, err := certs.ServiceID(mesh.Name, service)
	if err != nil {
		return nil, problem("gateway identity: %v", err)
	}
	var out []candidate
	for i, l := range gw.Spec.Conf.Listeners {
		if !l.CrossMesh {
			continue
		}
		name, internal := exposureName(l.Hostname, gw.Name, mesh.Name)
		e := Exposure{
			Mesh: mesh.Name, Gateway: gw.Name, GatewayService: service,
			Listener: i, Port: l.Port, Name: name, Internal: internal, SPIFFEID: id,
		}
		for _, dp := range bound {
			e.Endpoints = append(e.Endpoints, Endpoint{Dataplane: dp.Name, Address: dp.Spec.Networking.Address, Port: l.Port})
		}
		out = append(out, candidate{Exposure: e, gw: gw})
	}
	return out, nil
}

// gatewayService is the `kuma.io/service` the gateway's dataplanes hold their SVID for. The
// one selector (validation allows no more with crossMesh) usually names it; a selector on other
// tags leaves it to the bound dataplanes, which must then agree.
func gatewayService(gw *api.MeshGateway, bound []*api.Dataplane) (string, error) {
	for _, s := range gw.Spec.Selectors {
		if v := s.Match[api.ServiceTag]; v != "" && v != "*" {
			return v, nil
		}
	}
	service := ""
	for _, dp := range bound {
		v := dp.Spec.Networking.Gateway.Tags[api.ServiceTag]
		switch {
		case service == "":
			service = v
		case v != service:
			return "", fmt.Errorf("bound dataplanes disagree on %s (%q, %q); select one service", api.ServiceTag, service, v)
		}
	}
	if service == "" {
		return "", fmt.Errorf("cannot tell the gateway's %s: the selector does not name one and no dataplane is bound", api.ServiceTag)
	}
	return service, nil
}

func listenerField(i int, field string) string {
	return fmt.Sprintf("conf.listeners[%d].%s", i, field)
}

func sortProblems(ps []api.FieldError) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Resource != ps[j].Resource {
			return ps[i].Resource < ps[j].Resource
		}
		if ps[i].Field != ps[j].Field {
			return ps[i].Field < ps[j].Field
		}
		return ps[i].Message < ps[j].Message
	})
}
