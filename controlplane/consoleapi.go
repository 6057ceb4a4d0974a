package controlplane

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/meshgate/meshgate/api/client"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/controlplane/console"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
)

// The console's summaries: what the pages under /gui/ show, computed here from the model the
// control plane serves and the configuration it renders, so the browser never re-derives
// gateway precedence or cross-mesh names. The dataplane list is /inspect/dataplanes, shared
// with the CLI; dataplane details, CA state and explain are the existing API views.
const (
	consoleMeshesPath    = "/inspect/meshes"
	consoleGatewaysPath  = "/inspect/gateways"
	consoleCrossMeshPath = "/inspect/crossmesh"
)

func (cp *ControlPlane) registerConsoleAPI(get func(string, http.HandlerFunc)) {
	get(consoleMeshesPath, cp.serveMeshSummaries)
	get(consoleGatewaysPath, cp.serveGatewaySummaries)
	get(consoleCrossMeshPath, cp.serveCrossMesh)
}

// consoleHandler serves the console's pages; they hold no state (the data comes from the API
// views above, with the admin token the page is given), so they need no token themselves.
func consoleHandler() http.Handler { return console.Handler() }

type meshSummary struct {
	Name           string `json:"name"`
	MTLS           bool   `json:"mtls"`
	EnabledBackend string `json:"enabledBackend,omitempty"`
	Gateways       int    `json:"gateways"`
	Routes         int    `json:"routes"`
	Policies       int    `json:"policies"`
	Dataplanes     int    `json:"dataplanes"`
	Connected      int    `json:"connected"`
	// Unhappy names the dataplanes with a NACK in force, a build error or diagnostics.
	Unhappy []string `json:"unhappy,omitempty"`
}

type meshesView struct {
	Mode     string `json:"mode"`
	Revision int64  `json:"revision"`
	// Rebuilding is set while the control plane rebuilds its configuration after a change.
	Rebuilding bool          `json:"rebuilding,omitempty"`
	Meshes     []meshSummary `json:"meshes"`
}

func (cp *ControlPlane) serveMeshSummaries(w http.ResponseWriter, r *http.Request) {
	m := cp.rec.Model()
	view := meshesView{Mode: string(cp.mode), Meshes: []meshSummary{}, Rebuilding: cp.rec.rebuilding.Load()}
	if m == nil {
		writeJSON(w, view)
		return
	}
	byMesh := map[string][]client.DataplaneSummary{}
	for _, s := range cp.dataplaneSummaries(r.Context(), m, "") {
		byMesh[s.Mesh] = append(byMesh[s.Mesh], s)
	}
	for _, st := range cp.rec.Dataplanes() {
		view.Revision = max(view.Revision, st.Revision)
	}
	for _, mesh := range m.Meshes() {
		s := meshSummary{Name: mesh.Name, MTLS: mesh.MTLSEnabled(), Gateways: len(mesh.Gateways), Routes: len(mesh.Routes)}
		if s.MTLS {
			s.EnabledBackend = mesh.Resource.Spec.MTLS.EnabledBackend
		}
		for _, ps := range mesh.Policies {
			s.Policies += len(ps)
		}
		for _, dp := range byMesh[mesh.Name] {
			s.Dataplanes++
			if dp.Online {
				s.Connected++
			}
			if dp.Rejected || dp.Error != "" || dp.Diagnostics > 0 {
				s.Unhappy = append(s.Unhappy, dp.Name)
			}
		}
		view.Meshes = append(view.Meshes, s)
	}
	writeJSON(w, view)
}

type gatewaySummary struct {
	Mesh      string            `json:"mesh"`
	Name      string            `json:"name"`
	Listeners []listenerSummary `json:"listeners"`
	Replicas  []replicaSummary  `json:"replicas"`
	// RenderedFrom is the replica whose configuration the routes are read from; every replica
	// of a gateway is served the same routes.
	RenderedFrom string                `json:"renderedFrom,omitempty"`
	RouteTables  []routeTableSummary   `json:"routeTables,omitempty"`
	Policies     *explain.PolicyReport `json:"policies,omitempty"`
	Error        string                `json:"error,omitempty"`
}

type listenerSummary struct {
	Port      uint32 `json:"port"`
	Protocol  string `json:"protocol"`
	Hostname  string `json:"hostname"`
	TLS       string `json:"tls,omitempty"`
	CrossMesh bool   `json:"crossMesh,omitempty"`
}

type replicaSummary struct {
	Name    string `json:"name"`
	Online  bool   `json:"online"`
	Replica string `json:"replica,omitempty"`
	NACK    string `json:"nack,omitempty"`
}

type routeTableSummary struct {
	Name         string               `json:"name"`
	VirtualHosts []virtualHostSummary `json:"virtualHosts"`
}

type virtualHostSummary struct {
	Name    string         `json:"name"`
	Domains []string       `json:"domains"`
	Routes  []routeSummary `json:"routes"`
}

// routeSummary is one Envoy route, in the order Envoy tries them (the gateway's precedence).
type routeSummary struct {
	EnvoyRoute string           `json:"envoyRoute"`
	Route      string           `json:"route,omitempty"`
	Rule       int              `json:"rule"`
	Match      string           `json:"match"`
	Action     string           `json:"action"`
	Backends   []backendSummary `json:"backends,omitempty"`
}

type backendSummary struct {
	Cluster string `json:"cluster"`
	Service string `json:"service,omitempty"`
	Weight  uint32 `json:"weight"`
}

func (cp *ControlPlane) serveGatewaySummaries(w http.ResponseWriter, r *http.Request) {
	m := cp.rec.Model()
	out := []gatewaySummary{}
	if m == nil {
		writeJSON(w, out)
		return
	}
	only := r.URL.Query().Get("mesh")
	online := map[string]client.DataplaneSummary{}
	for _, s := range cp.dataplaneSummaries(r.Context(), m, only) {
		online[names.Node(s.Mesh, s.Name)] = s
	}
	for _, mesh := range m.Meshes() {
		if only != "" && mesh.Name != only {
			continue
		}
		for _, gw := range mesh.Gateways {
			out = append(out, cp.gatewaySummary(r.Context(), mesh, gw, online))
		}
	}
	writeJSON(w, out)
}

func (cp *ControlPlane) gatewaySummary(ctx context.Context, mesh *model.Mesh, gw *api.MeshGateway, online map[string]client.DataplaneSummary) gatewaySummary {
	s := gatewaySummary{Mesh: mesh.Name, Name: gw.Name, Listeners: []listenerSummary{}, Replicas: []replicaSummary{}}
	if gw.Spec.Conf != nil {
		for _, l := range gw.Spec.Conf.Listeners {
			ls := listenerSummary{Port: l.Port, Protocol: string(l.Protocol), Hostname: l.Hostname, CrossMesh: l.CrossMesh}
			if ls.Hostname == "" {
				ls.Hostname = "*"
			}
			if l.TLS != nil {
				ls.TLS = string(l.TLS.Mode)
			}
			s.Listeners = append(s.Listeners, ls)
		}
	}
	// Render from a connected replica when there is one: that is the configuration served.
	var from string
	for _, dp := range mesh.GatewayDataplanes(gw) {
		st := online[names.Node(mesh.Name, dp.Name)]
		s.Replicas = append(s.Replicas, replicaSummary{Name: dp.Name, Online: st.Online, Replica: st.Replica, NACK: st.NACK})
		if from == "" || (st.Online && !online[names.Node(mesh.Name, from)].Online) {
			from = dp.Name
		}
	}
	if from == "" || cp.mode == ModeGlobal {
		return s
	}
	g := cp.renderedGateway(ctx, mesh.Name, from)
	if g.err != nil {
		s.Error = fmt.Sprintf("rendering replica %s: %v", from, g.err)
		return s
	}
	if !g.rendered {
		return s
	}
	s.RenderedFrom = from
	s.RouteTables, s.Policies = g.routes, g.policies
	return s
}

// routeTables lists the rendered routes as Envoy holds them: tables by name, virtual hosts and
// routes in Envoy's (first match wins) order.
func routeTables(res *envoyres.Resources) []routeTableSummary {
	clusterService := map[string]string{}
	for _, c := range res.Clusters {
		if md := c.GetMetadata().GetFilterMetadata()[names.MetadataNamespace]; md != nil {
			clusterService[c.GetName()] = md.GetFields()["service"].GetStringValue()
		}
	}
	var out []routeTableSummary
	for _, rc := range res.Routes {
		t := routeTableSummary{Name: rc.GetName()}
		for _, vh := range rc.GetVirtualHosts() {
			v := virtualHostSummary{Name: vh.GetName(), Domains: vh.GetDomains(), Routes: []routeSummary{}}
			for _, rt := range vh.GetRoutes() {
				v.Routes = append(v.Routes, summarizeRoute(rt, clusterService))
			}
			t.VirtualHosts = append(t.VirtualHosts, v)
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func summarizeRoute(rt *routev3.Route, clusterService map[string]string) routeSummary {
	s := routeSummary{EnvoyRoute: rt.GetName(), Match: describeRouteMatch(rt.GetMatch())}
	if o, ok := names.DecodeRouteOrigin(rt.GetMetadata().GetFilterMetadata()[names.MetadataNamespace]); ok {
		s.Route, s.Rule = o.Route, o.Rule
	}
	backend := func(cluster string, weight uint32) {
		s.Backends = append(s.Backends, backendSummary{Cluster: cluster, Service: clusterService[cluster], Weight: weight})
	}
	switch a := rt.GetAction().(type) {
	case *routev3.Route_Route:
		s.Action = "forward"
		if c := a.Route.GetCluster(); c != "" {
			backend(c, 1)
		}
		for _, wc := range a.Route.GetWeightedClusters().GetClusters() {
			backend(wc.GetName(), wc.GetWeight().GetValue())
		}
	case *routev3.Route_Redirect:
		s.Action = "redirect"
		if p := a.Redirect.GetPathRedirect(); p != "" {
			s.Action += " to " + p
		}
	case *routev3.Route_DirectResponse:
		s.Action = fmt.Sprintf("respond %d", a.DirectResponse.GetStatus())
	default:
		s.Action = "other"
	}
	return s
}

// describeRouteMatch writes an Envoy route match the way an operator reads it.
func describeRouteMatch(m *routev3.RouteMatch) string {
	var parts []string
	switch {
	case m.GetPath() != "":
		parts = append(parts, "path = "+m.GetPath())
	case m.GetPrefix() != "":
		parts = append(parts, "prefix "+m.GetPrefix())
	case m.GetSafeRegex() != nil:
		parts = append(parts, "regex "+m.GetSafeRegex().GetRegex())
	case m.GetPathSeparatedPrefix() != "":
		parts = append(parts, "prefix "+m.GetPathSeparatedPrefix())
	}
	for _, h := range m.GetHeaders() {
		parts = append(parts, "header "+h.GetName())
	}
	for _, q := range m.GetQueryParameters() {
		parts = append(parts, "query "+q.GetName())
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, ", ")
}

type crossMeshView struct {
	Meshes    []crossMeshNode     `json:"meshes"`
	Exposures []crossMeshExposure `json:"exposures"`
}

type crossMeshNode struct {
	Name string `json:"name"`
	MTLS bool   `json:"mtls"`
}

type crossMeshExposure struct {
	Mesh     string `json:"mesh"`
	Gateway  string `json:"gateway"`
	Port     uint32 `json:"port"`
	Name     string `json:"name"`
	Internal bool   `json:"internal,omitempty"`
	// InternalName is internal.<gateway>.<mesh>.mesh, which always resolves too.
	InternalName string `json:"internalName"`
	Endpoints    int    `json:"endpoints"`
	// Allowed are the TrafficPermissions of the exposing mesh whose destinations select the
	// gateway, with the meshes their sources name (the exposing mesh when a source names none).
	Allowed []crossMeshPermission `json:"allowed"`
}

type crossMeshPermission struct {
	Name   string   `json:"name"`
	Meshes []string `json:"meshes"`
}

func (cp *ControlPlane) serveCrossMesh(w http.ResponseWriter, r *http.Request) {
	view := crossMeshView{Meshes: []crossMeshNode{}, Exposures: []crossMeshExposure{}}
	m := cp.rec.Model()
	if m == nil {
		writeJSON(w, view)
		return
	}
	for _, mesh := range m.Meshes() {
		view.Meshes = append(view.Meshes, crossMeshNode{Name: mesh.Name, MTLS: mesh.MTLSEnabled()})
	}
	table, _ := crossmesh.Resolve(m)
	for _, e := range table.Exposures {
		x := crossMeshExposure{Mesh: e.Mesh, Gateway: e.Gateway, Port: e.Port, Name: e.Name, Internal: e.Internal,
			InternalName: crossmesh.InternalName(e.Gateway, e.Mesh), Endpoints: len(e.Endpoints), Allowed: []crossMeshPermission{}}
		x.Allowed = permissionsFor(m.Mesh(e.Mesh), e.GatewayService)
		view.Exposures = append(view.Exposures, x)
	}
	writeJSON(w, view)
}

// permissionsFor lists the mesh's TrafficPermissions whose destinations select service.
func permissionsFor(mesh *model.Mesh, service string) []crossMeshPermission {
	out := []crossMeshPermission{}
	if mesh == nil {
		return out
	}
	for _, obj := range mesh.Policies[api.KindTrafficPermission] {
		tp, ok := obj.(*api.TrafficPermission)
		if !ok {
			continue
		}
		selects := false
		for _, d := range tp.DestinationSelectors() {
			if v := d[api.ServiceTag]; v == service || v == "*" {
				selects = true
			}
		}
		if !selects {
			continue
		}
		p := crossMeshPermission{Name: tp.Name}
		for _, src := range tp.SourceSelectors() {
			from := src[api.MeshTag]
			if from == "" {
				from = mesh.Name
			}
			if !slices.Contains(p.Meshes, from) {
				p.Meshes = append(p.Meshes, from)
			}
		}
		sort.Strings(p.Meshes)
		out = append(out, p)
	}
	return out
}
