package crossmesh

import (
	"fmt"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// serviceNames lists `<service>.mesh` for every inbound service of every mesh. A cross-mesh
// exposure is an explicit, global claim, so it wins over a service name it collides with;
// otherwise the same query would answer differently depending on the asker's mesh.
func serviceNames(m *model.Model, exposures []Exposure) ([]ServiceName, []api.FieldError) {
	exposed := map[string]Exposure{}
	for _, e := range exposures {
		if _, ok := exposed[e.Name]; !ok {
			exposed[e.Name] = e
		}
	}
	var (
		out      []ServiceName
		problems []api.FieldError
	)
	for _, mesh := range m.Meshes() {
		services := map[string]string{} // service → first dataplane declaring it
		// External services are destinations like any other: `<service>.mesh` reaches them.
		for _, es := range model.PoliciesOf[*api.ExternalService](mesh, api.KindExternalService) {
			svc := es.Service()
			if _, ok := services[svc]; ok || svc == "" {
				continue
			}
			services[svc] = es.DisplayName()
			name := canonical(ServiceDNSName(svc))
			if e, ok := exposed[name]; ok {
				problems = append(problems, es.Problem(fmt.Sprintf("tags[%s]", api.ServiceTag),
					fmt.Sprintf("%q is the cross-mesh name of MeshGateway %s/%s, which takes precedence; external service %q gets no .mesh name in mesh %q", name, e.Mesh, e.Gateway, svc, mesh.Name)))
				continue
			}
			out = append(out, ServiceName{Mesh: mesh.Name, Service: svc, Name: name})
		}
		for _, dp := range mesh.Dataplanes {
			for i, in := range dp.Spec.Networking.Inbound {
				svc := in.Tags[api.ServiceTag]
				if svc == "" || in.Port == api.ServicelessPort {
					continue
				}
				if _, ok := services[svc]; ok {
					continue
				}
				services[svc] = dp.DisplayName()
				name := canonical(ServiceDNSName(svc))
				if e, ok := exposed[name]; ok {
					problems = append(problems, dp.Problem(fmt.Sprintf("networking.inbound[%d].tags[%s]", i, api.ServiceTag),
						fmt.Sprintf("%q is the cross-mesh name of MeshGateway %s/%s, which takes precedence; service %q gets no .mesh name in mesh %q", name, e.Mesh, e.Gateway, svc, mesh.Name)))
					continue
				}
				out = append(out, ServiceName{Mesh: mesh.Name, Service: svc, Name: name})
			}
		}
		out = append(out, remoteServiceNames(m, mesh.Name, services, exposed)...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Mesh != out[j].Mesh {
			return out[i].Mesh < out[j].Mesh
		}
		return out[i].Service < out[j].Service
	})
	return out, problems
}

// remoteServiceNames are the `<service>.mesh` names of services other zones offer on their
// ZoneIngresses and no local dataplane serves: a sidecar reaches them by name as it does local
// ones, through the ingress. A cross-mesh listener offered there (its tags carry the port) is
// not a service. services is updated with the names given.
func remoteServiceNames(m *model.Model, mesh string, services map[string]string, exposed map[string]Exposure) []ServiceName {
	var out []ServiceName
	for _, zi := range m.ZoneIngresses() {
		for _, s := range zi.Spec.AvailableServices {
			svc := s.Tags[api.ServiceTag]
			if s.Mesh != mesh || s.Instances == 0 || !s.IsService() {
				continue
			}
			if _, ok := services[svc]; ok {
				continue
			}
			services[svc] = zi.DisplayName()
			name := canonical(ServiceDNSName(svc))
			if _, ok := exposed[name]; ok {
				continue // the cross-mesh name wins, as over a local service
			}
			out = append(out, ServiceName{Mesh: mesh, Service: svc, Name: name})
		}
	}
	return out
}
