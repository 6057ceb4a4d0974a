package crossmesh

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh/vip"
	"github.com/meshgate/meshgate/model"
)

func mtlsMesh(name string) string {
	return "type: Mesh\nname: " + name + "\nmtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}\n"
}

func gateway(mesh, name, created, listeners string) string {
	s := "type: MeshGateway\nmesh: " + mesh + "\nname: " + name + "\n"
	if created != "" {
		s += "creationTime: " + created + "\n"
	}
	return s + "selectors: [{match: {kuma.io/service: " + name + "}}]\nconf: {listeners: [" + listeners + "]}\n"
}

func gatewayDP(mesh, name, service, addr string) string {
	return "type: Dataplane\nmesh: " + mesh + "\nname: " + name + "\nnetworking: {address: " + addr +
		", gateway: {type: BUILTIN, tags: {kuma.io/service: " + service + "}}}\n"
}

func serviceDP(mesh, name, service string) string {
	return "type: Dataplane\nmesh: " + mesh + "\nname: " + name +
		"\nnetworking: {address: 10.0.0.9, inbound: [{port: 80, tags: {kuma.io/service: " + service + "}}]}\n"
}

func decodeDocs(t *testing.T, docs ...string) []api.Object {
	t.Helper()
	objs, errs := api.Decode("in.yaml", []byte(strings.Join(docs, "---\n")))
	require.Empty(t, errs)
	return objs
}

func build(t *testing.T, docs ...string) *model.Model {
	t.Helper()
	m, errs := model.Build(decodeDocs(t, docs...))
	require.Empty(t, errs)
	return m
}

// unlocated checks that every problem is located in the decoded file, where the resource that
// loses the name was written, and returns them without file and line for comparison.
func unlocated(t *testing.T, problems []api.FieldError) []api.FieldError {
	t.Helper()
	var out []api.FieldError
	for _, p := range problems {
		assert.Equal(t, "in.yaml", p.File, "%v", p)
		assert.Positive(t, p.Line, "%v", p)
		p.File, p.Line = "", 0
		out = append(out, p)
	}
	return out
}

func TestResolveNames(t *testing.T) {
	m := build(t,
		mtlsMesh("default"),
		gateway("default", "edge", "", `
{port: 8080, protocol: HTTP, crossMesh: true},
{port: 8081, protocol: HTTP, crossMesh: true, hostname: api.example.com},
{port: 8082, protocol: HTTP, crossMesh: true, hostname: "*.example.com"},
{port: 9090, protocol: HTTP}`),
		gatewayDP("default", "edge-1", "edge", "10.0.0.1"),
	)
	table, problems := Resolve(m)
	require.Empty(t, problems)
	type got struct {
		Port     uint32
		Name     string
		Internal bool
	}
	var names []got
	for _, e := range table.Exposures {
		names = append(names, got{e.Port, e.Name, e.Internal})
		assert.Equal(t, "spiffe://default/edge", e.SPIFFEID.String())
		assert.Equal(t, "edge", e.GatewayService)
	}
	assert.Equal(t, []got{
		{8080, "internal.edge.default.mesh", true},
		{8081, "api.example.com", false},
		{8082, "internal.edge.default.mesh", true},
	}, names)
	assert.Equal(t, []vip.Key{{Name: "api.example.com"}, {Name: "internal.edge.default.mesh"}}, table.VIPKeys())
}

func TestResolveProblems(t *testing.T) {
	tests := []struct {
		name     string
		docs     []string
		exposed  []string // mesh/gateway:port
		problems []api.FieldError
	}{
		{
			name: "mesh without mTLS",
			docs: []string{
				"type: Mesh\nname: plain\n",
				gateway("plain", "edge", "", "{port: 80, protocol: HTTP}, {port: 8080, protocol: HTTP, crossMesh: true}"),
				gatewayDP("plain", "edge-1", "edge", "10.0.0.1"),
			},
			problems: []api.FieldError{{
				Resource: "MeshGateway plain/edge", Field: "conf.listeners[1].crossMesh",
				Message: `mesh "plain" must have mTLS enabled to expose cross-mesh listeners`,
			}},
		},
		{
			name: "hostname conflict across meshes: older claim wins",
			docs: []string{
				mtlsMesh("a"), mtlsMesh("b"),
				gateway("a", "gw", "2024-02-01T00:00:00Z", "{port: 80, protocol: HTTP, crossMesh: true, hostname: api.mesh}"),
				gateway("b", "gw", "2024-01-01T00:00:00Z", "{port: 81, protocol: HTTP, crossMesh: true, hostname: api.mesh}"),
			},
			exposed: []string{"b/gw:81"},
			problems: []api.FieldError{{
				Resource: "MeshGateway a/gw", Field: "conf.listeners[0].hostname",
				Message: `name "api.mesh" is already exposed by MeshGateway b/gw`,
			}},
		},
		{
			name: "hostname conflict with equal creation: mesh order",
			docs: []string{
				mtlsMesh("b"), mtlsMesh("a"),
				gateway("b", "gw", "", "{port: 80, protocol: HTTP, crossMesh: true, hostname: api.mesh}"),
				gateway("a", "gw", "", "{port: 80, protocol: HTTP, crossMesh: true, hostname: api.mesh}"),
			},
			exposed: []string{"a/gw:80"},
			problems: []api.FieldError{{
				Resource: "MeshGateway b/gw", Field: "conf.listeners[0].hostname",
				Message: `name "api.mesh" is already exposed by MeshGateway a/gw`,
			}},
		},
		{
			name: "hostname equal to another gateway's internal name",
			docs: []string{
				mtlsMesh("a"), mtlsMesh("b"),
				gateway("a", "gw", "2020-01-01T00:00:00Z", "{port: 80, protocol: HTTP, crossMesh: true, hostname: internal.gw.b.mesh}"),
				gateway("b", "gw", "2024-01-01T00:00:00Z", "{port: 80, protocol: HTTP, crossMesh: true}"),
			},
			exposed: []string{"b/gw:80"},
			problems: []api.FieldError{{
				Resource: "MeshGateway a/gw", Field: "conf.listeners[0].hostname",
				Message: `name "internal.gw.b.mesh" is already exposed by MeshGateway b/gw`,
			}},
		},
		{
			name: "same gateway may use one hostname on two ports",
			docs: []string{
				mtlsMesh("a"),
				gateway("a", "gw", "", "{port: 80, protocol: HTTP, crossMesh: true, hostname: x.mesh}, {port: 81, protocol: HTTP, crossMesh: true, hostname: x.mesh}"),
			},
			exposed: []string{"a/gw:80", "a/gw:81"},
		},
		{
			name: "cross-mesh name shadows a service name",
			docs: []string{
				mtlsMesh("a"),
				gateway("a", "gw", "", "{port: 80, protocol: HTTP, crossMesh: true, hostname: web.mesh}"),
				serviceDP("a", "web-1", "web"),
			},
			exposed: []string{"a/gw:80"},
			problems: []api.FieldError{{
				Resource: "Dataplane a/web-1", Field: "networking.inbound[0].tags[kuma.io/service]",
				Message: `"web.mesh" is the cross-mesh name of MeshGateway a/gw, which takes precedence; service "web" gets no .mesh name in mesh "a"`,
			}},
		},
		{
			name: "selector without service and no dataplane",
			docs: []string{
				mtlsMesh("a"),
				"type: MeshGateway\nmesh: a\nname: gw\nselectors: [{match: {kuma.io/service: \"*\", role: edge}}]\nconf: {listeners: [{port: 80, protocol: HTTP, crossMesh: true}]}\n",
			},
			problems: []api.FieldError{{
				Resource: "MeshGateway a/gw", Field: "conf.listeners[0].crossMesh",
				Message: "cannot tell the gateway's kuma.io/service: the selector does not name one and no dataplane is bound",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, problems := Resolve(build(t, tt.docs...))
			var exposed []string
			for _, e := range table.Exposures {
				exposed = append(exposed, e.Mesh+"/"+e.Gateway+":"+itoa(e.Port))
			}
			assert.Equal(t, tt.exposed, exposed)
			assert.Equal(t, tt.problems, unlocated(t, problems))
		})
	}
}

func itoa(p uint32) string { return strconv.FormatUint(uint64(p), 10) }

// The winner of a name must not depend on the order resources were read in.
func TestResolveDeterministic(t *testing.T) {
	docs := []string{mtlsMesh("a"), mtlsMesh("b"), mtlsMesh("c")}
	for _, mesh := range []string{"a", "b", "c"} {
		docs = append(docs, gateway(mesh, "gw", "", "{port: 80, protocol: HTTP, crossMesh: true, hostname: shared.mesh}"),
			gatewayDP(mesh, "gw-1", "gw", "10.0.0.1"), serviceDP(mesh, "svc-1", "svc-"+mesh))
	}
	first, firstProblems := Resolve(build(t, docs...))
	rng := rand.New(rand.NewSource(1))
	for range 20 {
		rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
		table, problems := Resolve(build(t, docs...))
		require.Equal(t, first, table)
		require.Equal(t, unlocated(t, firstProblems), unlocated(t, problems), "the same problems; their lines follow the shuffled documents")
	}
	require.Len(t, first.Exposures, 1)
	assert.Equal(t, "a", first.Exposures[0].Mesh)
	assert.Len(t, firstProblems, 2)
}

func TestResolveEndpointsFollowBinding(t *testing.T) {
	m := build(t,
		mtlsMesh("a"),
		// Both match dataplanes of service edge; the one with the more specific selector wins.
		"type: MeshGateway\nmesh: a\nname: generic\nselectors: [{match: {kuma.io/service: edge}}]\nconf: {listeners: [{port: 80, protocol: HTTP, crossMesh: true}]}\n",
		"type: MeshGateway\nmesh: a\nname: prod\nselectors: [{match: {kuma.io/service: edge, env: prod}}]\nconf: {listeners: [{port: 81, protocol: HTTP, crossMesh: true}]}\n",
		"type: Dataplane\nmesh: a\nname: dp-prod\nnetworking: {address: 10.0.0.2, gateway: {type: BUILTIN, tags: {kuma.io/service: edge, env: prod}}}\n",
		"type: Dataplane\nmesh: a\nname: dp-dev\nnetworking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: edge, env: dev}}}\n",
		"type: Dataplane\nmesh: a\nname: dp-delegated\nnetworking: {address: 10.0.0.3, gateway: {tags: {kuma.io/service: edge}}}\n",
	)
	table, problems := Resolve(m)
	require.Empty(t, problems)
	require.Len(t, table.Exposures, 2)
	assert.Equal(t, "generic", table.Exposures[0].Gateway)
	assert.Equal(t, []Endpoint{{Dataplane: "dp-dev", Address: "10.0.0.1", Port: 80}}, table.Exposures[0].Endpoints)
	assert.Equal(t, "prod", table.Exposures[1].Gateway)
	assert.Equal(t, []Endpoint{{Dataplane: "dp-prod", Address: "10.0.0.2", Port: 81}}, table.Exposures[1].Endpoints)
}

func TestResolveServiceNames(t *testing.T) {
	m := build(t,
		"type: Mesh\nname: a\n", mtlsMesh("b"),
		serviceDP("a", "web-1", "web"), serviceDP("a", "web-2", "web"), serviceDP("a", "api-1", "api"),
		serviceDP("b", "web-1", "web"),
		gatewayDP("b", "gw-1", "gw", "10.0.0.1"),
	)
	table, problems := Resolve(m)
	require.Empty(t, problems)
	assert.Equal(t, []ServiceName{
		{Mesh: "a", Service: "api", Name: "api.mesh"},
		{Mesh: "a", Service: "web", Name: "web.mesh"},
		{Mesh: "b", Service: "web", Name: "web.mesh"},
	}, table.Services)
	assert.Equal(t, []vip.Key{{Mesh: "a", Name: "api.mesh"}, {Mesh: "a", Name: "web.mesh"}, {Mesh: "b", Name: "web.mesh"}}, table.VIPKeys())
}
