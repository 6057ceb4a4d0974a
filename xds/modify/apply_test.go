package modify_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/modify"
)

func raw(name, resource string) api.ProxyTemplateRawResource {
	return api.ProxyTemplateRawResource{Name: name, Version: "v1", Resource: resource}
}

func TestRawResources(t *testing.T) {
	edsCluster := `
"@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
name: extra
type: EDS
connect_timeout: 1s
eds_cluster_config: {eds_config: {ads: {}}}
`
	assignment := `
"@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
cluster_name: extra
endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.1.1.1, port_value: 80}}}}]}]
`
	cases := []struct {
		name      string
		resources []api.ProxyTemplateRawResource
		check     func(t *testing.T, out *envoyres.Resources)
		problems  []want
	}{
		{name: "cluster without @type", resources: []api.ProxyTemplateRawResource{raw("extra", staticCluster)},
			check: func(t *testing.T, out *envoyres.Resources) { require.NotNil(t, cluster(out, "extra")) }},
		{name: "unnamed cluster takes the entry's name", resources: []api.ProxyTemplateRawResource{raw("extra", "type: STATIC\nconnect_timeout: 1s")},
			check: func(t *testing.T, out *envoyres.Resources) { require.NotNil(t, cluster(out, "extra")) }},
		{name: "listener without @type", resources: []api.ProxyTemplateRawResource{raw("extra",
			"name: extra\naddress: {socket_address: {address: 0.0.0.0, port_value: 7070}}\nlistener_filters_timeout: 1s")},
			check: func(t *testing.T, out *envoyres.Resources) { require.NotNil(t, listener(out, "extra")) }},
		{name: "EDS cluster and its assignment together", resources: []api.ProxyTemplateRawResource{raw("extra", edsCluster), raw("extra", assignment)},
			check: func(t *testing.T, out *envoyres.Resources) {
				require.NotNil(t, cluster(out, "extra"))
				assert.Len(t, out.Endpoints, 3)
			}},
		{name: "EDS cluster alone", resources: []api.ProxyTemplateRawResource{raw("extra", edsCluster)},
			problems: []want{{"conf.resources[0].resource", `cluster "extra" takes its endpoints over EDS, but there is no ClusterLoadAssignment "extra"; not applied`}}},
		{name: "assignment alone", resources: []api.ProxyTemplateRawResource{raw("extra", assignment)},
			problems: []want{{"conf.resources[0].resource", `ClusterLoadAssignment "extra" belongs to no EDS cluster; not applied`}}},
		{name: "name taken", resources: []api.ProxyTemplateRawResource{raw("api", "name: api\ntype: STATIC")},
			problems: []want{{"conf.resources[0].resource", `a cluster named "api" already exists; not applied`}}},
		{name: "names differ", resources: []api.ProxyTemplateRawResource{raw("other", staticCluster)},
			problems: []want{{"conf.resources[0].name", `the cluster is named "extra" in Envoy, which is the name that counts, not "other"`}},
			check:    func(t *testing.T, out *envoyres.Resources) { require.NotNil(t, cluster(out, "extra")) }},
		{name: "unknown @type", resources: []api.ProxyTemplateRawResource{raw("x", `"@type": type.googleapis.com/envoy.config.nope.v3.Nope`)},
			problems: []want{{"conf.resources[0].resource", `unknown @type "type.googleapis.com/envoy.config.nope.v3.Nope"`}}},
		{name: "not a served type", resources: []api.ProxyTemplateRawResource{raw("x", "'@type': type.googleapis.com/envoy.config.route.v3.VirtualHost\nname: x")},
			problems: []want{{"conf.resources[0].resource", `@type "type.googleapis.com/envoy.config.route.v3.VirtualHost" is not a resource meshgate serves`}}},
		{name: "neither cluster nor listener", resources: []api.ProxyTemplateRawResource{raw("x", "virtual_hosts: []")},
			problems: []want{{"conf.resources[0].resource", `has no @type and is neither a Cluster nor a Listener (as a Cluster: unknown field "virtual_hosts" in envoy.config.cluster.v3.Cluster); not applied`}}},
		{name: "invalid", resources: []api.ProxyTemplateRawResource{raw("extra", "name: extra\nconnect_timeout: -1s")},
			problems: []want{{"conf.resources[0].resource", `cluster "extra" is invalid: invalid Cluster.ConnectTimeout: value must be greater than 0s; not applied`}}},
		{name: "one bad, one good", resources: []api.ProxyTemplateRawResource{raw("x", "foo: bar"), raw("extra", staticCluster)},
			problems: []want{{"conf.resources[0].resource", "neither a Cluster nor a Listener"}},
			check:    func(t *testing.T, out *envoyres.Resources) { require.NotNil(t, cluster(out, "extra")) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, problems := apply(t, gateway(t), template(&api.ProxyTemplateConf{Imports: []string{api.ProfileGatewayProxy}, Resources: c.resources}))
			requireProblems(t, problems, c.problems...)
			if c.check != nil {
				c.check(t, out)
			}
		})
	}
}

func TestResourcesBeforeModifications(t *testing.T) {
	// A modification may patch what conf.resources added, as in Kuma.
	pt := template(&api.ProxyTemplateConf{
		Imports:       []string{api.ProfileGatewayProxy},
		Resources:     []api.ProxyTemplateRawResource{raw("extra", staticCluster)},
		Modifications: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 3s", &api.ProxyTemplateClusterMatch{Name: "extra"})},
	})
	out, problems := apply(t, gateway(t), pt)
	assert.Empty(t, problems)
	assert.Equal(t, 3*time.Second, cluster(out, "extra").GetConnectTimeout().AsDuration())
}

func TestImports(t *testing.T) {
	res := gateway(t)
	t.Run("no conf", func(t *testing.T) {
		out, problems := apply(t, res, template(nil))
		assert.Empty(t, problems)
		assert.Equal(t, dump(t, res), dump(t, out))
	})
	t.Run("empty imports", func(t *testing.T) {
		out, problems := apply(t, res, template(&api.ProxyTemplateConf{
			Modifications: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 3s", &api.ProxyTemplateClusterMatch{Name: "api"})},
		}))
		requireProblems(t, problems, want{"conf.imports", "imports empty: meshgate always generates the dataplane's configuration"})
		assert.Equal(t, 3*time.Second, cluster(out, "api").GetConnectTimeout().AsDuration(), "the modifications still apply")
	})
}

func TestApplyErrors(t *testing.T) {
	_, _, err := modify.Apply(nil, template(nil))
	require.Error(t, err)
	_, _, err = modify.Apply(&envoyres.Resources{}, nil)
	require.Error(t, err)
}

func TestApplyIsDeterministic(t *testing.T) {
	pt := mods(
		httpMod(api.OpAddBefore, luaFilter, &api.ProxyTemplateHTTPFilterMatch{Name: routerName}),
		networkMod(api.OpPatch, "typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: x}",
			&api.ProxyTemplateNetworkFilterMatch{Name: tcpProxyName}),
	)
	first, _ := apply(t, gateway(t), pt)
	for range 10 {
		again, _ := apply(t, gateway(t), pt)
		assert.Equal(t, dump(t, first), dump(t, again))
	}
}

func TestSelect(t *testing.T) {
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	ptWith := func(name string, created time.Time, sels ...map[string]string) *api.ProxyTemplate {
		p := &api.ProxyTemplate{Meta: api.Meta{Kind: api.KindProxyTemplate, Mesh: "default", Name: name, CreationTime: created}}
		for _, s := range sels {
			p.Spec.Selectors = append(p.Spec.Selectors, api.Selector{Match: s})
		}
		return p
	}
	gw := &api.Dataplane{Spec: api.DataplaneSpec{Networking: api.Networking{
		Gateway: &api.DataplaneGateway{Type: api.GatewayBuiltin, Tags: map[string]string{"kuma.io/service": "gw", "zone": "eu"}},
		Inbound: []api.Inbound{{Tags: map[string]string{"kuma.io/service": "other"}}},
	}}}
	web := &api.Dataplane{Spec: api.DataplaneSpec{Networking: api.Networking{Inbound: []api.Inbound{
		{Tags: map[string]string{"kuma.io/service": "web"}},
		{Tags: map[string]string{"kuma.io/service": "admin", "version": "v2"}},
	}}}}
	t0, t1 := at("2024-01-01T00:00:00Z"), at("2024-06-01T00:00:00Z")
	cases := []struct {
		name      string
		templates []*api.ProxyTemplate
		dp        *api.Dataplane
		want      string
	}{
		{"none", nil, gw, ""},
		{"no selectors match every dataplane", []*api.ProxyTemplate{ptWith("all", t0)}, web, "all"},
		{"gateway tags", []*api.ProxyTemplate{ptWith("a", t0, map[string]string{"kuma.io/service": "gw"})}, gw, "a"},
		{"a gateway is not matched by inbound tags", []*api.ProxyTemplate{ptWith("a", t0, map[string]string{"kuma.io/service": "other"})}, gw, ""},
		{"any inbound of a sidecar", []*api.ProxyTemplate{ptWith("a", t0, map[string]string{"kuma.io/service": "admin"})}, web, "a"},
		{"no match", []*api.ProxyTemplate{ptWith("a", t0, map[string]string{"kuma.io/service": "db"})}, web, ""},
		{"more tags win", []*api.ProxyTemplate{
			ptWith("one", t1, map[string]string{"kuma.io/service": "gw"}),
			ptWith("two", t0, map[string]string{"kuma.io/service": "gw", "zone": "eu"}),
			ptWith("all", t1),
		}, gw, "two"},
		{"exact beats wildcard", []*api.ProxyTemplate{
			ptWith("wild", t1, map[string]string{"kuma.io/service": "*"}),
			ptWith("exact", t0, map[string]string{"kuma.io/service": "web"}),
		}, web, "exact"},
		{"best selector of a template counts", []*api.ProxyTemplate{
			ptWith("a", t0, map[string]string{"kuma.io/service": "web"}, map[string]string{"kuma.io/service": "admin", "version": "v2"}),
			ptWith("b", t1, map[string]string{"kuma.io/service": "web"}),
		}, web, "a"},
		{"tie goes to the newest", []*api.ProxyTemplate{
			ptWith("a", t0, map[string]string{"kuma.io/service": "gw"}),
			ptWith("b", t1, map[string]string{"kuma.io/service": "gw"}),
		}, gw, "b"},
		{"then to the first name", []*api.ProxyTemplate{
			ptWith("b", t0, map[string]string{"kuma.io/service": "gw"}),
			ptWith("a", t0, map[string]string{"kuma.io/service": "gw"}),
		}, gw, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mesh := &model.Mesh{Name: "default", Policies: map[api.Kind][]api.Object{}}
			for _, p := range c.templates {
				mesh.Policies[api.KindProxyTemplate] = append(mesh.Policies[api.KindProxyTemplate], p)
			}
			got := modify.Select(mesh, c.dp)
			if c.want == "" {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, c.want, got.Name)
		})
	}
	assert.Nil(t, modify.Select(nil, gw))
	assert.Nil(t, modify.Select(&model.Mesh{}, nil))
}
