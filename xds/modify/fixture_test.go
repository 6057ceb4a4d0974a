package modify_test

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/modify"
	"github.com/meshgate/meshgate/xds/render"
	"github.com/meshgate/meshgate/xds/snapshot"
)

// gatewayInput is a builtin gateway with an HTTP listener routing everything to `api` and a TCP
// listener forwarding to `db`.
const gatewayInput = `
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: gw
networking:
  address: 192.168.1.1
  gateway:
    type: BUILTIN
    tags: {kuma.io/service: gw}
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
  - {port: 8080, protocol: HTTP, hostname: echo.example.com, tags: {port: http/8080}}
  - {port: 9090, protocol: TCP, tags: {port: tcp/9090}}
---
type: MeshGatewayRoute
mesh: default
name: web
selectors: [{match: {kuma.io/service: gw, port: http/8080}}]
conf:
  http:
    rules:
    - matches: [{path: {match: PREFIX, value: /}}]
      backends: [{destination: {kuma.io/service: api}}]
---
type: MeshGatewayRoute
mesh: default
name: db
selectors: [{match: {kuma.io/service: gw, port: tcp/9090}}]
conf:
  tcp:
    rules:
    - backends: [{destination: {kuma.io/service: db}}]
---
type: Dataplane
mesh: default
name: api
networking:
  address: 192.168.1.2
  inbound: [{port: 20002, tags: {kuma.io/service: api, kuma.io/protocol: http}}]
---
type: Dataplane
mesh: default
name: db
networking:
  address: 192.168.1.3
  inbound: [{port: 20003, tags: {kuma.io/service: db, kuma.io/protocol: tcp}}]
`

func loadModel(t *testing.T, text string) *model.Model {
	t.Helper()
	objs, errs := api.Decode("input.yaml", []byte(text))
	require.Empty(t, errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)
	return m
}

func rendered(t *testing.T, text, dataplane string) *envoyres.Resources {
	t.Helper()
	out, err := render.Dataplane(loadModel(t, text), "default", dataplane, build.DefaultOptions())
	require.NoError(t, err)
	return out.Resources
}

// gateway renders the gateway fixture without any ProxyTemplate.
func gateway(t *testing.T) *envoyres.Resources {
	t.Helper()
	return rendered(t, gatewayInput, "gw")
}

// dump prints resources as meshgate render does, to compare and to read in failures.
func dump(t *testing.T, r *envoyres.Resources) string {
	t.Helper()
	doc, err := render.NewDocument(r)
	require.NoError(t, err)
	out, err := render.Marshal(doc, "yaml")
	require.NoError(t, err)
	return string(out)
}

// sidecarInput is a sidecar `web` with one HTTP inbound and an explicit outbound to `api`.
const sidecarInput = `
type: Mesh
name: default
---
type: Dataplane
mesh: default
name: web
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, servicePort: 80, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
  outbound: [{port: 10001, tags: {kuma.io/service: api}}]
---
type: Dataplane
mesh: default
name: api
networking:
  address: 10.0.0.2
  inbound: [{port: 8080, tags: {kuma.io/service: api, kuma.io/protocol: http}}]
`

func sidecar(t *testing.T) *envoyres.Resources {
	t.Helper()
	return rendered(t, sidecarInput, "web")
}

func template(conf *api.ProxyTemplateConf) *api.ProxyTemplate {
	return &api.ProxyTemplate{
		Meta: api.Meta{Kind: api.KindProxyTemplate, Mesh: "default", Name: "pt"},
		Spec: api.ProxyTemplateSpec{Conf: conf},
	}
}

func mods(ms ...api.ProxyTemplateModification) *api.ProxyTemplate {
	return template(&api.ProxyTemplateConf{Imports: []string{api.ProfileGatewayProxy}, Modifications: ms})
}

// apply runs Apply and checks what every result must be: the input untouched, a valid and
// consistent snapshot, nothing Check objects to.
func apply(t *testing.T, res *envoyres.Resources, pt *api.ProxyTemplate) (*envoyres.Resources, []api.FieldError) {
	t.Helper()
	before := dump(t, res)
	out, problems, err := modify.Apply(res, pt)
	require.NoError(t, err)
	require.Equal(t, before, dump(t, res), "Apply changed its input")
	_, err = snapshot.New(out)
	require.NoError(t, err)
	require.Empty(t, modify.Check(out))
	return out, problems
}

// want is an expected problem: its field, and text its message contains.
type want struct{ field, msg string }

func requireProblems(t *testing.T, got []api.FieldError, wants ...want) {
	t.Helper()
	require.Len(t, got, len(wants), "problems: %v", got)
	for i, w := range wants {
		assert.Equal(t, "ProxyTemplate default/pt", got[i].Resource)
		assert.Equal(t, w.field, got[i].Field, "problem %d: %v", i, got[i])
		assert.Contains(t, got[i].Message, w.msg, "problem %d", i)
	}
}

func cluster(res *envoyres.Resources, name string) *clusterv3.Cluster {
	for _, c := range res.Clusters {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

func listener(res *envoyres.Resources, name string) *listenerv3.Listener {
	for _, l := range res.Listeners {
		if l.GetName() == name {
			return l
		}
	}
	return nil
}

func routeConfig(res *envoyres.Resources, name string) *routev3.RouteConfiguration {
	for _, r := range res.Routes {
		if r.GetName() == name {
			return r
		}
	}
	return nil
}

// networkFilters names the filters of a listener's first filter chain.
func networkFilters(t *testing.T, l *listenerv3.Listener) []string {
	t.Helper()
	require.NotNil(t, l)
	var out []string
	for _, f := range l.GetFilterChains()[0].GetFilters() {
		out = append(out, f.GetName())
	}
	return out
}

// httpManager unpacks the HTTP connection manager of a listener's first filter chain.
func httpManager(t *testing.T, l *listenerv3.Listener) *hcmv3.HttpConnectionManager {
	t.Helper()
	require.NotNil(t, l)
	for _, f := range l.GetFilterChains()[0].GetFilters() {
		if tc := f.GetTypedConfig(); tc != nil && strings.HasSuffix(tc.GetTypeUrl(), "HttpConnectionManager") {
			h := &hcmv3.HttpConnectionManager{}
			require.NoError(t, tc.UnmarshalTo(h))
			return h
		}
	}
	t.Fatalf("listener %q has no HTTP connection manager", l.GetName())
	return nil
}

func httpFilters(t *testing.T, l *listenerv3.Listener) []string {
	t.Helper()
	var out []string
	for _, f := range httpManager(t, l).GetHttpFilters() {
		out = append(out, f.GetName())
	}
	return out
}

func names[T interface{ GetName() string }](list []T) []string {
	var out []string
	for _, x := range list {
		out = append(out, x.GetName())
	}
	return out
}

const (
	httpListener = "edge:HTTP:8080"
	tcpListener  = "edge:TCP:9090"
	routeName    = "edge:HTTP:8080:*"
)
