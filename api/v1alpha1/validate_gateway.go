package v1alpha1

// reservedListenerTags are tags a MeshGateway (or its listeners) must not set: they describe the
// Dataplane and would change what the gateway is.
var reservedListenerTags = []string{ExternalServiceTag, ProtocolTag, ServiceTag, ZoneTag}

// Validate checks a MeshGateway with Kuma's rules (pkg/core/resources/apis/mesh/gateway_validator.go)
// plus the ones Kuma lacks and then fails on when generating Envoy config (docs/kuma-compatibility.md#meshgateway-validation "Gaps").
func (g *MeshGateway) Validate() ErrorList {
	var v validator
	v.meta(&g.Meta)
	crossMesh := false
	if g.Spec.Conf != nil {
		for _, l := range g.Spec.Conf.Listeners {
			crossMesh = crossMesh || l.CrossMesh
		}
	}
	v.selectors("selectors", g.Spec.Selectors, crossMesh, selectorRules)
	v.tags("tags", g.Spec.Tags, tagRules{selector: true, forbiddenKeys: reservedListenerTags})
	v.gatewayConf("conf", g.Spec.Conf)
	return v.errs
}

func (v *validator) gatewayConf(path string, conf *MeshGatewayConf) {
	if conf == nil {
		v.add(path, "cannot be empty")
		return
	}
	path = joinField(path, "listeners")
	if len(conf.Listeners) == 0 {
		v.add(path, "cannot be empty")
	}
	for i, l := range conf.Listeners {
		v.listener(joinIndex(path, i), l)
	}
	v.listenerCollapsibility(path, conf.Listeners)
}

func (v *validator) listener(path string, l Listener) {
	if l.Hostname != "" {
		v.hostname(joinField(path, "hostname"), l.Hostname)
	}
	v.port(joinField(path, "port"), l.Port)

	protocol, tls, mode := joinField(path, "protocol"), joinField(path, "tls"), joinField(path, "tls.mode")
	// checkTLS is false where a tls block is already reported as wrong as a whole.
	checkTLS := l.TLS != nil && !l.CrossMesh
	switch l.Protocol {
	case ProtocolNone:
		v.add(protocol, "cannot be empty")
	case ProtocolHTTPS:
		switch {
		case l.CrossMesh:
			v.add(protocol, crossMeshProtocols)
		case l.TLS == nil:
			v.add(tls, "cannot be empty")
		case l.TLS.Mode == TLSModePassthrough:
			v.add(mode, "mode is not supported on HTTPS listeners")
		}
	case ProtocolTLS:
		// Kuma accepts both and then fails: a TLS listener without tls has no mode to generate,
		// and crossMesh forces an HTTP filter chain onto it.
		switch {
		case l.CrossMesh:
			v.add(protocol, crossMeshProtocols)
		case l.TLS == nil:
			v.add(tls, "cannot be empty")
		}
	case ProtocolTCP:
		switch {
		case l.TLS != nil:
			v.add(tls, "cannot be used with protocol TCP: TLS settings would be ignored (use protocol TLS)")
			checkTLS = false
		}
	case ProtocolHTTP:
		if l.TLS != nil && !l.CrossMesh {
			v.add(tls, "cannot be used with protocol HTTP: TLS settings would be ignored (use protocol HTTPS)")
			checkTLS = false
		}
	}

	if checkTLS {
		certs := joinField(tls, "certificates")
		switch l.TLS.Mode {
		case TLSModeNone:
			v.add(mode, "cannot be empty")
		case TLSModeTerminate:
			switch n := len(l.TLS.Certificates); {
			case n == 0:
				v.add(certs, "cannot be empty in TLS termination mode")
			case n > 2:
				v.add(certs, "cannot have more than 2 certificates")
			}
		case TLSModePassthrough:
			if len(l.TLS.Certificates) > 0 {
				v.add(certs, "must be empty in TLS passthrough mode")
			}
		}
		for j, c := range l.TLS.Certificates {
			v.dataSource(joinIndex(certs, j), c)
		}
	}
	if l.TLS != nil && l.CrossMesh && (l.TLS.Mode != TLSModeNone || len(l.TLS.Certificates) > 0) {
		v.add(tls, "must be empty with crossMesh")
	}

	v.tags(joinField(path, "tags"), l.Tags, tagRules{selector: true, forbiddenKeys: reservedListenerTags})
}

// listenerCollapsibility checks the listeners that share a port, which become one Envoy
// listener: they must agree on protocol, crossMesh and connection limit, and differ in hostname.
func (v *validator) listenerCollapsibility(path string, listeners []Listener) {
	type portGroup struct {
		indexes    []int
		protocols  map[Protocol]bool
		crossMesh  map[bool]bool
		hostnames  map[string][]int
		hostOrder  []string
		limits     map[uint32]bool
		limitedIdx []int
	}
	groups := map[uint32]*portGroup{}
	var order []uint32
	for i, l := range listeners {
		g := groups[l.Port]
		if g == nil {
			g = &portGroup{protocols: map[Protocol]bool{}, crossMesh: map[bool]bool{}, hostnames: map[string][]int{}, limits: map[uint32]bool{}}
			groups[l.Port] = g
			order = append(order, l.Port)
		}
		g.indexes = append(g.indexes, i)
		g.protocols[l.Protocol] = true
		g.crossMesh[l.CrossMesh] = true
		host := l.Hostname
		if host == "" {
			host = "*"
		}
		if _, ok := g.hostnames[host]; !ok {
			g.hostOrder = append(g.hostOrder, host)
		}
		g.hostnames[host] = append(g.hostnames[host], i)
		if l.Resources != nil && l.Resources.ConnectionLimit != 0 {
			g.limits[l.Resources.ConnectionLimit] = true
			g.limitedIdx = append(g.limitedIdx, i)
		}
	}
	for _, port := range order {
		g := groups[port]
		if len(g.protocols) > 1 {
			for _, i := range g.indexes {
				v.add(joinIndex(path, i), "protocol conflicts with other listeners on this port")
			}
		}
		if len(g.crossMesh) > 1 {
			// Kuma takes the flag of the first listener on the port for all of them.
			for _, i := range g.indexes {
				v.add(joinIndex(path, i), "crossMesh conflicts with other listeners on this port")
			}
		}
		for _, host := range g.hostOrder {
			if idx := g.hostnames[host]; len(idx) > 1 {
				for _, i := range idx {
					v.add(joinIndex(path, i), "multiple listeners for hostname on this port")
				}
			}
		}
		if len(g.limits) > 1 {
			for _, i := range g.limitedIdx {
				v.add(joinField(joinIndex(path, i), "resources.connectionLimit"), "conflicting values for this port")
			}
		}
	}
}

// crossMeshProtocols is why a listener with its own TLS cannot be cross-mesh.
const crossMeshProtocols = "crossMesh is allowed on HTTP (HTTP/1.1, HTTP/2 and gRPC backends) and TCP listeners only: " +
	"other meshes reach a cross-mesh listener through the mesh's mTLS, which terminates at the gateway, so a listener " +
	"with its own TLS (HTTPS, TLS) cannot be one"
