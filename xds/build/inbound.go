package build

import (
	"fmt"
	"net"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// inbounds builds one listener per `networking.inbound`: in an mTLS mesh it requires a client
// certificate from the mesh CA, presents the dataplane's identity and admits only callers a
// TrafficPermission allows; then it forwards to the local application.
func (b *builder) inbounds() {
	routeConfigs := map[string]bool{}
	listeners := map[string]bool{}
	for i, in := range b.dp.Spec.Networking.Inbound {
		field := fmt.Sprintf("networking.inbound[%d]", i)
		addr := in.Address
		if addr == "" {
			addr = b.dp.Spec.Networking.Address
		}
		if net.ParseIP(addr) == nil {
			b.diag(&b.dp.Meta, field+".address", "must be an IP address, not %q; inbound skipped", addr)
			continue
		}
		if in.Port == api.ServicelessPort {
			continue
		}
		name := names.InboundListener(addr, in.Port)
		if listeners[name] {
			// A second inbound on the same address and port (a StatefulSet pod behind its
			// Service and its headless twin, which Kubernetes mode derives as Kuma does) makes
			// the pod an endpoint of both services; one listener serves the port, as the
			// application behind it is one. The first inbound's tags govern it.
			continue
		}
		listeners[name] = true
		svc := in.Tags[api.ServiceTag]
		local, ok := b.localCluster(field, in, addr)
		if !ok {
			continue
		}
		fc := ir.FilterChain{Name: name}
		if b.mesh.MTLSEnabled() {
			fc.TLS = &ir.DownstreamTLS{
				IdentitySecret:    names.IdentitySecret(b.mesh.Name),
				RequireClientCert: true,
				ValidationSecret:  names.MeshCASecret(b.mesh.Name),
				SANPrefix:         names.MeshIDPrefix(b.mesh.Name),
			}
			fc.RBAC = b.inboundRBAC(name, in.Tags)
		}
		protocol := ir.TCP
		if isHTTP(in.Tags[api.ProtocolTag]) {
			protocol = ir.HTTP
			rc := names.InboundRouteConfig(svc)
			if routeConfigs[rc] {
				// Two inbounds of one service: Kuma's name is per service, ours must be unique.
				rc = names.InboundRouteConfigOnPort(svc, in.Port)
			}
			routeConfigs[rc] = true
			fc.HTTP = &ir.HTTPConnectionManager{
				StatPrefix: local,
				Sidecar:    true,
				// Kuma's inbound defaults: streams idle up to an hour, no request timeout.
				StreamIdleTimeout: inboundStreamIdleTimeout,
				// x-kuma-tags is for this proxy (FaultInjection and RateLimit sources, matched before
				// the router removes it), not the application, as in Kuma.
				RouteConfig: ir.RouteConfig{Name: rc, RequestHeadersToRemove: []string{names.TagsHeader}, VirtualHosts: []ir.VirtualHost{{
					Name: svc, Domains: []string{"*"},
					Routes: b.inboundRoutes(in.Tags, ir.Route{
						Name:    names.InboundRoute,
						Match:   ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
						Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: local, Weight: 1}}, NoTimeout: true},
					}),
				}}},
				ForwardClientCert: b.mesh.MTLSEnabled(),
				Faults:            b.inboundFaults(in.Tags),
			}
		} else {
			fc.TCP = &ir.TCPProxy{StatPrefix: local, Clusters: []ir.WeightedCluster{{Name: local, Weight: 1}}}
		}
		chains := []ir.FilterChain{fc}
		if b.mesh.Resource.Spec.MTLSPermissive() {
			chains = permissive(fc)
		}
		b.proxy.Listeners = append(b.proxy.Listeners, ir.Listener{
			Name: name, Address: addr, Port: in.Port, Protocol: protocol, StatPrefix: svc,
			Direction: ir.DirectionInbound, Virtual: b.transparent(),
			FilterChains: chains,
		})
	}
}

// localCluster is the application behind an inbound, at `serviceAddress:servicePort`. As in
// Kuma, an inbound without serviceAddress forwards to its own address (the inbound's `address`,
// else `networking.address`, given as dpAddr), not to localhost: an application bound to its
// pod or host IP is reachable, and one bound to 0.0.0.0 is too.
func (b *builder) localCluster(field string, in api.Inbound, dpAddr string) (string, bool) {
	port := in.ServicePort
	if port == 0 {
		port = in.Port
	}
	addr := in.ServiceAddress
	if addr == "" {
		addr = dpAddr
	}
	ip := net.ParseIP(addr)
	if ip == nil {
		b.diag(&b.dp.Meta, field+".serviceAddress", "must be an IP address, not %q; inbound skipped", addr)
		return "", false
	}
	name := names.LocalCluster(port)
	if c, ok := b.clusters[name]; ok {
		if c.Endpoints[0].Address != addr {
			b.diag(&b.dp.Meta, field+".serviceAddress", "port %d is already served at %s by another inbound; inbound skipped", port, c.Endpoints[0].Address)
			return "", false
		}
		return name, true
	}
	proto := ir.ClusterTCP
	switch in.Tags[api.ProtocolTag] {
	case "http":
		proto = ir.ClusterHTTP
	case "http2", "grpc":
		proto = ir.ClusterHTTP2
	}
	c := &ir.Cluster{
		Name: name, Type: ir.ClusterStatic, Service: in.Tags[api.ServiceTag], Protocol: proto,
		Endpoints: []ir.Endpoint{{Address: addr, Port: port, Weight: 1}},
	}
	if b.transparent() && !ip.Equal(net.IPv4(127, 0, 0, 1)) && !ip.Equal(net.IPv6loopback) {
		// The transparent proxy's rules send Envoy's connections over lo to anything but
		// 127.0.0.1 and ::1 (127.0.0.2 included) back to its inbound listener; from Kuma's
		// passthrough source address they are let through, as Kuma binds them.
		c.BindAddress = localAppSource(ip)
	}
	b.clusters[name] = c
	return name, true
}

// localAppSource is the source address of connections to an application on any address but
// 127.0.0.1 or ::1: the inbound passthrough source of the address's family (127.0.0.6 or ::6), which
// the transparent proxy's iptables rules exempt from redirection, as Kuma binds them.
func localAppSource(ip net.IP) string {
	if ip.To4() == nil {
		return "::6"
	}
	return inboundPassthroughSource
}

// isHTTP reports whether a `kuma.io/protocol` value makes the listener HTTP-aware.
func isHTTP(protocol string) bool {
	switch protocol {
	case "http", "http2", "grpc":
		return true
	}
	return false
}

// permissive splits an mTLS inbound chain for a mesh whose CA is in PERMISSIVE mode, as Kuma
// does while services move into the mesh: TLS connections get the mTLS chain (identity checked,
// TrafficPermission enforced), plain-text ones a chain without either. The plain chain cannot
// know its caller, so explain and the RBAC say nothing about it.
func permissive(fc ir.FilterChain) []ir.FilterChain {
	mtls := fc
	mtls.TransportProtocolTLS = true
	plain := fc
	plain.Name = names.Plaintext(fc.Name)
	plain.TLS, plain.RBAC = nil, nil
	if fc.HTTP != nil {
		h := *fc.HTTP
		h.ForwardClientCert = false
		h.RouteConfig.Name = names.Plaintext(h.RouteConfig.Name)
		plain.HTTP = &h
	}
	return []ir.FilterChain{mtls, plain}
}
