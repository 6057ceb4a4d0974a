package crossmesh

import (
	"strings"
)

// Domain is the DNS suffix of every name crossmesh publishes.
const Domain = "mesh"

// InternalName is the generated name of a crossMesh listener without a usable hostname.
func InternalName(gateway, mesh string) string {
	return "internal." + gateway + "." + mesh + "." + Domain
}

// ServiceDNSName is the name a mesh service is reachable at inside its own mesh.
func ServiceDNSName(service string) string { return service + "." + Domain }

// exposureName applies Kuma's rule (docs/kuma-compatibility.md#cross-mesh-names): a wildcard cannot be resolved, so such a
// listener gets the generated name like one without a hostname. Names are compared in
// canonical form because DNS is case-insensitive and `a.mesh.` is `a.mesh`.
func exposureName(hostname, gateway, mesh string) (name string, internal bool) {
	if hostname == "" || strings.Contains(hostname, "*") {
		return canonical(InternalName(gateway, mesh)), true
	}
	return canonical(hostname), false
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// InDomain reports whether a canonical name is Domain or below it: such a name belongs to the
// DNS zone itself, where any other name is an override of what upstream resolvers answer.
func InDomain(name string) bool {
	return name == Domain || strings.HasSuffix(name, "."+Domain)
}
