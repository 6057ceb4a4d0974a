package crossmesh

import (
	"fmt"
	"net"
	"sort"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// hostNames lists the host entries of every mesh (docs/kuma-compatibility.md#dns-and-vips): an ExternalService's own host,
// from networking.address, resolves to a VIP inside its mesh, so a transparently proxied
// application can call `http://httpbin.org:443/` and its sidecar originates the TLS. A host
// has one VIP per mesh and one service per port: the first ExternalService by name wins a
// port, later ones are reported. Published names (cross-mesh names, `<service>.mesh`) take
// precedence over hosts, as they do over service names. IP literals need no name, and
// disableHostDNSEntry opts out.
func hostNames(m *model.Model, exposures []Exposure, services []ServiceName) ([]HostName, []api.FieldError) {
	exposed := map[string]Exposure{}
	for _, e := range exposures {
		if _, ok := exposed[e.Name]; !ok {
			exposed[e.Name] = e
		}
	}
	serviceOf := map[string]map[string]string{} // mesh → name → service
	for _, s := range services {
		if serviceOf[s.Mesh] == nil {
			serviceOf[s.Mesh] = map[string]string{}
		}
		serviceOf[s.Mesh][s.Name] = s.Service
	}
	var (
		out      []HostName
		problems []api.FieldError
	)
	for _, mesh := range m.Meshes() {
		taken := map[string]map[uint32]string{} // host → port → ExternalService
		first := map[string]string{}            // service → first ExternalService declaring it
		for _, es := range model.PoliciesOf[*api.ExternalService](mesh, api.KindExternalService) {
			svc := es.Service()
			if svc == "" {
				continue
			}
			if _, ok := first[svc]; !ok {
				first[svc] = es.DisplayName()
			}
			n := es.Spec.Networking
			host, port := es.Host(), es.Port()
			if n == nil || n.DisableHostDNSEntry || host == "" || port == 0 || net.ParseIP(host) != nil {
				continue
			}
			problem := func(msg string, args ...any) {
				problems = append(problems, es.Problem("networking.address", fmt.Sprintf(msg, args...)))
			}
			h := canonical(host)
			if !isHostName(h) {
				problem("host %q is not a DNS name; it gets no host entry", host)
				continue
			}
			if h == Domain {
				problem("host %q is the DNS zone's origin; it gets no entry", h)
				continue
			}
			if first[svc] != es.DisplayName() {
				// Its service's cluster is the first ExternalService's: the host would lead there.
				problem("external service %q is %s's; host %q gets no entry", svc, first[svc], h)
				continue
			}
			if e, ok := exposed[h]; ok {
				problem("%q is the cross-mesh name of MeshGateway %s/%s, which takes precedence; host %q gets no entry in mesh %q", h, e.Mesh, e.Gateway, h, mesh.Name)
				continue
			}
			if other, ok := serviceOf[mesh.Name][h]; ok {
				problem("%q is the name of service %q in mesh %q, which takes precedence; host %q gets no entry", h, other, mesh.Name, h)
				continue
			}
			if prev, ok := taken[h][port]; ok {
				problem("host %q port %d is already the entry of %s", h, port, prev)
				continue
			}
			if taken[h] == nil {
				taken[h] = map[uint32]string{}
			}
			taken[h][port] = es.DisplayName()
			out = append(out, HostName{Mesh: mesh.Name, Host: h, Service: svc, Port: port})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Mesh != b.Mesh {
			return a.Mesh < b.Mesh
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Port < b.Port
	})
	return out, problems
}

// isHostName reports whether a canonical name is a plain DNS name the DNS server can serve:
// labels of letters, digits, `-` and `_`, 1 to 63 bytes each, at most 253 bytes in all.
func isHostName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
