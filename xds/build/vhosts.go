package build

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// hstsHeader is sent on every HTTPS virtual host, as Kuma does.
var hstsHeader = ir.Header{Name: "Strict-Transport-Security", Value: "max-age=31536000; includeSubDomains"}

// placement is one route attached to one listener, with the hostnames it serves there.
type placement struct {
	route *api.MeshGatewayRoute
	host  *host
	// patterns are the route's hostnames narrowed to the listener's (nil: the route names no
	// hostnames and serves every name the listener owns).
	patterns []string
}

// virtualHosts builds the virtual hosts of one route configuration from the listeners it
// serves (docs/kuma-compatibility.md#virtual-hosts, with meshgate's fixes):
//   - a route hostname that is narrower than its listener's gets its own virtual host;
//   - routes without hostnames serve every virtual host their listener owns, including those
//     created for other routes' hostnames (Kuma left them out, so adding a hostname-specific
//     route silently hid the catch-all routes for that name);
//   - a virtual host is owned by the most exact listener hostname that contains it;
//   - a route with hostnames serves every virtual host those hostnames contain, whichever
//     listener owns it (Kuma's merge of wildcard-listener routes into a named listener's host).
func (b *builder) virtualHosts(hosts []*host, https bool) []ir.VirtualHost {
	var places []placement
	seen := map[string]bool{}
	var vhostNames []string
	addName := func(n string) {
		if !seen[n] {
			seen[n] = true
			vhostNames = append(vhostNames, n)
		}
	}
	for _, h := range hosts {
		addName(h.hostname)
	}
	for _, h := range hosts {
		for _, r := range h.routes {
			hostnames := r.Spec.Conf.HTTP.Hostnames
			if len(hostnames) == 0 {
				places = append(places, placement{route: r, host: h})
				continue
			}
			var patterns []string
			for _, n := range hostnames {
				if x, ok := hostIntersection(n, h.hostname); ok {
					patterns = append(patterns, x)
					addName(x)
				}
			}
			if len(patterns) == 0 {
				b.diag(&r.Meta, "conf.http.hostnames", "no hostname matches listener hostname %q; route not served there", h.hostname)
				continue
			}
			places = append(places, placement{route: r, host: h, patterns: patterns})
		}
	}
	sortHostnames(vhostNames)

	vhosts := make([]ir.VirtualHost, 0, len(vhostNames))
	for _, v := range vhostNames {
		owner := ownerOf(hosts, v)
		var routes []placement
		included := map[string]bool{}
		for _, p := range places {
			if included[p.route.Name] || !serves(p, owner, v) {
				continue
			}
			included[p.route.Name] = true
			routes = append(routes, p)
		}
		vh := ir.VirtualHost{Name: v, Domains: []string{v}, Routes: b.routeTable(routes)}
		if len(vh.Routes) == 0 {
			vh.Routes = []ir.Route{notFoundRoute()}
		}
		if https {
			vh.RequireTLS = true
			vh.ResponseHeadersToAdd = []ir.Header{hstsHeader}
		}
		vhosts = append(vhosts, vh)
	}
	return vhosts
}

// ownerOf is the most exact listener hostname containing v (hosts are most exact first).
func ownerOf(hosts []*host, v string) *host {
	for _, h := range hosts {
		if hostContains(h.hostname, v) {
			return h
		}
	}
	return nil
}

func serves(p placement, owner *host, v string) bool {
	if p.patterns == nil {
		return p.host == owner
	}
	for _, pat := range p.patterns {
		if hostContains(pat, v) {
			return true
		}
	}
	return false
}

func notFoundRoute() ir.Route {
	return ir.Route{
		Name:           names.NotFoundRoute,
		Match:          ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
		DirectResponse: &ir.DirectResponse{Status: 404, Body: names.NotFoundBody},
	}
}
