package scale

import (
	"fmt"
	"strings"
)

// scenario is one deployment to load and the changes to make in it.
type scenario struct {
	name string
	mtls bool
	// docs are the resources, one YAML document each, applied through POST /apply.
	docs []string
	// known is how many Dataplanes docs hold; nodes are the node ids of those that connect (a
	// stream's index is its index here).
	known int
	nodes []string
	// routeChange, when set, is the k-th route change (a PUT path and YAML body); every stream
	// in routeWant must then receive a new RDS version.
	routeChange func(k int) (path, body string)
	routeWant   []int
	// endpointChange is the k-th endpoint change; every stream in endpointWant (the consumers of
	// the changed service) must then receive a new EDS version, and ideally nobody else anything.
	endpointChange func(k int) (path, body string)
	endpointWant   []int
}

func meshDoc(mtls bool) string {
	if mtls {
		// Builtin mTLS: every dataplane gets its identity and the mesh bundle over SDS, as in
		// production.
		return "type: Mesh\nname: default\nmtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}\n"
	}
	return "type: Mesh\nname: default\n"
}

// hostAddress is a distinct address for the i-th dataplane of a group (i < 64,000).
func hostAddress(group, i int) string {
	return fmt.Sprintf("10.%d.%d.%d", group, i/250, i%250+1)
}

const (
	gatewayServices = 10
	gatewayBackends = 2 // dataplanes per backend service
	gatewayRoutes   = 100
	// changedRoute and changedService are what the changes touch.
	changedRoute   = 42
	changedService = 3
)

// gatewayScenario is one MeshGateway (an HTTP listener) with 100 MeshGatewayRoutes over 10
// backend services (2 Dataplanes each, not connected), served by n builtin gateway replicas
// that all connect. The route change re-weights one route's backends; the endpoint change adds
// a Dataplane to one backend service, which every replica routes to.
func gatewayScenario(n int, mtls bool) scenario {
	sc := scenario{name: "gateway-replicas", mtls: mtls, known: n + gatewayServices*gatewayBackends}
	sc.docs = append(sc.docs, meshDoc(mtls), `type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: edge}}]
conf:
  listeners:
    - {port: 8080, protocol: HTTP, hostname: foo.example.com, tags: {port: http/8080}}
`)
	for s := range gatewayServices {
		for j := range gatewayBackends {
			sc.docs = append(sc.docs, backendDoc(fmt.Sprintf("be-%02d-%d", s, j), hostAddress(2, s*gatewayBackends+j), s))
		}
	}
	for r := range gatewayRoutes {
		sc.docs = append(sc.docs, routeDoc(r, 90))
	}
	for i := range n {
		name := fmt.Sprintf("gw-%05d", i)
		sc.docs = append(sc.docs, fmt.Sprintf(`type: Dataplane
mesh: default
name: %s
networking:
  address: %s
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}
`, name, hostAddress(1, i)))
		sc.nodes = append(sc.nodes, "default."+name)
		sc.routeWant = append(sc.routeWant, i)
		sc.endpointWant = append(sc.endpointWant, i)
	}
	sc.routeChange = func(k int) (string, string) {
		// 89/11, 88/12, ...: every change differs from the one before it.
		return fmt.Sprintf("/meshes/default/meshgatewayroutes/route-%03d", changedRoute), routeDoc(changedRoute, 89-k%80)
	}
	sc.endpointChange = func(k int) (string, string) {
		name := fmt.Sprintf("be-%02d-new-%d", changedService, k)
		return "/meshes/default/dataplanes/" + name, backendDoc(name, hostAddress(3, k), changedService)
	}
	return sc
}

// routeDoc is route r: requests under /rNNN go to two services, weighted w and 100-w.
func routeDoc(r, w int) string {
	return fmt.Sprintf(`type: MeshGatewayRoute
mesh: default
name: route-%03d
selectors: [{match: {kuma.io/service: edge, port: http/8080}}]
conf:
  http:
    rules:
      - matches: [{path: {match: PREFIX, value: /r%03d}}]
        backends:
          - {destination: {kuma.io/service: svc-%02d}, weight: %d}
          - {destination: {kuma.io/service: svc-%02d}, weight: %d}
`, r, r, r%gatewayServices, w, (r+1)%gatewayServices, 100-w)
}

// backendDoc is a Dataplane of gateway backend service svc-NN.
func backendDoc(name, address string, service int) string {
	return fmt.Sprintf(`type: Dataplane
mesh: default
name: %s
networking:
  address: %s
  inbound: [{port: 8080, tags: {kuma.io/service: svc-%02d, kuma.io/protocol: http}}]
`, name, address, service)
}

const (
	sidecarsPerService = 10
	sidecarOutbounds   = 5
)

// sidecarScenario is n sidecar Dataplanes in n/10 services (at least 6), all connected; each
// has one inbound and an outbound to each of the next 5 services (so every service has 5
// consuming services). The endpoint change adds a Dataplane (not connected) to one service:
// only its consumers' configuration changes.
func sidecarScenario(n int, mtls bool) scenario {
	services := max((n+sidecarsPerService-1)/sidecarsPerService, sidecarOutbounds+1)
	sc := scenario{name: "sidecars", mtls: mtls, known: n}
	sc.docs = append(sc.docs, meshDoc(mtls))
	changed := services / 2
	for i := range n {
		s := i % services
		name := fmt.Sprintf("sc-%05d", i)
		var out strings.Builder
		consumer := false
		for o := 1; o <= sidecarOutbounds; o++ {
			target := (s + o) % services
			consumer = consumer || target == changed
			fmt.Fprintf(&out, "    - {port: %d, tags: {kuma.io/service: svc-%03d}}\n", 10000+o, target)
		}
		sc.docs = append(sc.docs, fmt.Sprintf(`type: Dataplane
mesh: default
name: %s
networking:
  address: %s
  inbound: [{port: 8080, tags: {kuma.io/service: svc-%03d, kuma.io/protocol: http}}]
  outbound:
%s`, name, hostAddress(4, i), s, out.String()))
		sc.nodes = append(sc.nodes, "default."+name)
		if consumer {
			sc.endpointWant = append(sc.endpointWant, i)
		}
	}
	sc.endpointChange = func(k int) (string, string) {
		name := fmt.Sprintf("sc-new-%d", k)
		return "/meshes/default/dataplanes/" + name, fmt.Sprintf(`type: Dataplane
mesh: default
name: %s
networking:
  address: %s
  inbound: [{port: 8080, tags: {kuma.io/service: svc-%03d, kuma.io/protocol: http}}]
`, name, hostAddress(5, k), changed)
	}
	return sc
}

// bodies joins docs into multi-document bodies of at most limit bytes each (the API takes
// bodies up to 4 MiB).
func bodies(docs []string, limit int) [][]byte {
	var out [][]byte
	var cur []byte
	for _, d := range docs {
		if len(cur) > 0 && len(cur)+len(d)+5 > limit {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, "---\n"...)
		cur = append(cur, d...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
