package modify_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

func clusterMod(op api.ModificationOperation, value string, match *api.ProxyTemplateClusterMatch) api.ProxyTemplateModification {
	return api.ProxyTemplateModification{Cluster: &api.ProxyTemplateCluster{Operation: op, Value: value, Match: match}}
}

func listenerMod(op api.ModificationOperation, value string, match *api.ProxyTemplateListenerMatch) api.ProxyTemplateModification {
	return api.ProxyTemplateModification{Listener: &api.ProxyTemplateListener{Operation: op, Value: value, Match: match}}
}

const staticCluster = `
name: extra
type: STATIC
connect_timeout: 2s
load_assignment:
  cluster_name: extra
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
`

// resourceCase is one table case: modifications, what the output must show, the problems.
type resourceCase struct {
	name      string
	res       func(t *testing.T) *envoyres.Resources
	mods      []api.ProxyTemplateModification
	check     func(t *testing.T, out *envoyres.Resources)
	problems  []want
	unchanged bool
}

func runCases(t *testing.T, cases []resourceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			get := c.res
			if get == nil {
				get = gateway
			}
			res := get(t)
			out, problems := apply(t, res, mods(c.mods...))
			requireProblems(t, problems, c.problems...)
			if c.unchanged {
				assert.Equal(t, dump(t, res), dump(t, out), "a rejected modification changed the output")
			}
			if c.check != nil {
				c.check(t, out)
			}
		})
	}
}

func TestClusterModifications(t *testing.T) {
	api1 := &api.ProxyTemplateClusterMatch{Name: "api"}
	runCases(t, []resourceCase{
		{name: "add", mods: []api.ProxyTemplateModification{clusterMod(api.OpAdd, staticCluster, nil)},
			check: func(t *testing.T, out *envoyres.Resources) {
				c := cluster(out, "extra")
				require.NotNil(t, c)
				assert.Equal(t, 2*time.Second, c.GetConnectTimeout().AsDuration())
				assert.Equal(t, []string{"api", "db", "extra"}, names(out.Clusters), "sorted by name")
			}},
		{name: "add json", mods: []api.ProxyTemplateModification{clusterMod(api.OpAdd,
			`{"name": "extra", "type": "STATIC", "connectTimeout": "2s"}`, nil)},
			check: func(t *testing.T, out *envoyres.Resources) { require.NotNil(t, cluster(out, "extra")) }},
		{name: "add existing name", mods: []api.ProxyTemplateModification{clusterMod(api.OpAdd, "name: api\ntype: STATIC", nil)},
			problems:  []want{{"conf.modifications[0].cluster.value", `a cluster named "api" already exists (patch it instead); not applied`}},
			unchanged: true},
		{name: "add unknown field", mods: []api.ProxyTemplateModification{clusterMod(api.OpAdd, "name: x\nfoo: 1", nil)},
			problems:  []want{{"conf.modifications[0].cluster.value", `unknown field "foo" in envoy.config.cluster.v3.Cluster; not applied`}},
			unchanged: true},
		{name: "add without name", mods: []api.ProxyTemplateModification{clusterMod(api.OpAdd, "type: STATIC", nil)},
			problems: []want{{"conf.modifications[0].cluster.value", "the cluster has no name"}}, unchanged: true},
		{name: "add EDS cluster without assignment",
			mods: []api.ProxyTemplateModification{clusterMod(api.OpAdd, "name: x\ntype: EDS\neds_cluster_config: {eds_config: {ads: {}}}", nil)},
			problems: []want{{"conf.modifications[0].cluster",
				`cluster "x" takes its endpoints over EDS, but there is no ClusterLoadAssignment "x"; not applied`}},
			unchanged: true},
		{name: "patch one", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch,
			"connect_timeout: 10s\ncircuit_breakers: {thresholds: [{max_connections: 100, max_pending_requests: 50}]}", api1)},
			check: func(t *testing.T, out *envoyres.Resources) {
				c := cluster(out, "api")
				assert.Equal(t, 10*time.Second, c.GetConnectTimeout().AsDuration())
				require.Len(t, c.GetCircuitBreakers().GetThresholds(), 1)
				assert.EqualValues(t, 100, c.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue())
				assert.Equal(t, "api", c.GetEdsClusterConfig().GetServiceName(), "the rest is kept")
				assert.Equal(t, 5*time.Second, cluster(out, "db").GetConnectTimeout().AsDuration())
			}},
		{name: "patch replaces durations whole", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 0.5s", api1)},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, 500*time.Millisecond, cluster(out, "api").GetConnectTimeout().AsDuration(), "not 5.5s")
			}},
		{name: "patch all", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 1s", nil)},
			check: func(t *testing.T, out *envoyres.Resources) {
				for _, c := range out.Clusters {
					assert.Equal(t, time.Second, c.GetConnectTimeout().AsDuration(), c.GetName())
				}
			}},
		{name: "patch by origin", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 1s",
			&api.ProxyTemplateClusterMatch{Origin: "gateway"})},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, time.Second, cluster(out, "db").GetConnectTimeout().AsDuration())
			}},
		{name: "patch negative connect timeout", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: -1s", api1)},
			problems:  []want{{"conf.modifications[0].cluster", `cluster "api" would be invalid: invalid Cluster.ConnectTimeout: value must be greater than 0s; not applied`}},
			unchanged: true},
		{name: "patch unknown lb_policy", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "lb_policy: FASTEST", api1)},
			problems:  []want{{"conf.modifications[0].cluster.value", `invalid value for enum field lbPolicy: "FASTEST" in envoy.config.cluster.v3.Cluster`}},
			unchanged: true},
		{name: "patch undefined lb_policy number", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "lb_policy: 42", api1)},
			problems:  []want{{"conf.modifications[0].cluster", "invalid Cluster.LbPolicy: value must be one of the defined enum values"}},
			unchanged: true},
		{name: "patch renames onto another cluster", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "name: db", api1)},
			problems:  []want{{"conf.modifications[0].cluster", `two clusters are named "db"`}},
			unchanged: true},
		{name: "patch no match", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 1s", &api.ProxyTemplateClusterMatch{Name: "nope"})},
			problems: []want{{"conf.modifications[0].cluster.match", `matches no cluster (name "nope"); nothing changed`}}, unchanged: true},
		{name: "patch inbound origin on a gateway", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 1s",
			&api.ProxyTemplateClusterMatch{Origin: "inbound"})},
			problems: []want{{"conf.modifications[0].cluster.match", `matches no cluster (origin "inbound"); nothing changed`}}, unchanged: true},
		{name: "patch unknown origin", mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 1s",
			&api.ProxyTemplateClusterMatch{Origin: "prometheus"})},
			problems: []want{{"conf.modifications[0].cluster.match",
				`matches no cluster (origin "prometheus"): meshgate generates no resources of origin "prometheus" (it knows inbound, outbound, gateway, transparent); nothing changed`}},
			unchanged: true},
		{name: "remove referenced by a route", mods: []api.ProxyTemplateModification{clusterMod(api.OpRemove, "", api1)},
			problems: []want{{"conf.modifications[0].cluster",
				`route configuration "edge:HTTP:8080:*" references cluster "api", which does not exist; not applied`}},
			unchanged: true},
		{name: "remove referenced by tcp_proxy", mods: []api.ProxyTemplateModification{clusterMod(api.OpRemove, "", &api.ProxyTemplateClusterMatch{Name: "db"})},
			problems:  []want{{"conf.modifications[0].cluster", `listener "edge:TCP:9090" references cluster "db", which does not exist; not applied`}},
			unchanged: true},
		{name: "remove unreferenced with its assignment", mods: []api.ProxyTemplateModification{
			listenerMod(api.OpRemove, "", &api.ProxyTemplateListenerMatch{Name: tcpListener}),
			clusterMod(api.OpRemove, "", &api.ProxyTemplateClusterMatch{Name: "db"}),
		},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, []string{"api"}, names(out.Clusters))
				require.Len(t, out.Endpoints, 1)
				assert.Equal(t, "api", out.Endpoints[0].GetClusterName())
			}},
		{name: "remove added", mods: []api.ProxyTemplateModification{
			clusterMod(api.OpAdd, staticCluster, nil),
			clusterMod(api.OpRemove, "", &api.ProxyTemplateClusterMatch{Name: "extra"}),
		}, unchanged: true},
		{name: "invalid operation", mods: []api.ProxyTemplateModification{clusterMod("replace", "name: x", nil)},
			problems:  []want{{"conf.modifications[0].cluster.operation", `operation "replace" is not one of "add", "patch", "remove"; not applied`}},
			unchanged: true},
		{name: "a rejected modification does not stop the next", mods: []api.ProxyTemplateModification{
			clusterMod(api.OpPatch, "connect_timeout: -1s", api1),
			clusterMod(api.OpPatch, "connect_timeout: 7s", api1),
		},
			problems: []want{{"conf.modifications[0].cluster", "value must be greater than 0s"}},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, 7*time.Second, cluster(out, "api").GetConnectTimeout().AsDuration())
			}},
		{name: "sidecar inbound origin", res: sidecar, mods: []api.ProxyTemplateModification{clusterMod(api.OpPatch, "connect_timeout: 1s",
			&api.ProxyTemplateClusterMatch{Origin: "inbound"})},
			check: func(t *testing.T, out *envoyres.Resources) {
				for _, c := range out.Clusters {
					want := 5 * time.Second
					if c.GetName() == "localhost:80" {
						want = time.Second
					}
					assert.Equal(t, want, c.GetConnectTimeout().AsDuration(), c.GetName())
				}
			}},
	})
}

func TestListenerModifications(t *testing.T) {
	runCases(t, []resourceCase{
		{name: "patch", mods: []api.ProxyTemplateModification{listenerMod(api.OpPatch, "per_connection_buffer_limit_bytes: 1024",
			&api.ProxyTemplateListenerMatch{Name: httpListener})},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.EqualValues(t, 1024, listener(out, httpListener).GetPerConnectionBufferLimitBytes().GetValue())
				assert.EqualValues(t, 32768, listener(out, tcpListener).GetPerConnectionBufferLimitBytes().GetValue())
				assert.Len(t, listener(out, httpListener).GetFilterChains(), 1, "the rest is kept")
			}},
		{name: "patch by origin", mods: []api.ProxyTemplateModification{listenerMod(api.OpPatch, "per_connection_buffer_limit_bytes: 1024",
			&api.ProxyTemplateListenerMatch{Origin: "gateway"})},
			check: func(t *testing.T, out *envoyres.Resources) {
				for _, l := range out.Listeners {
					assert.EqualValues(t, 1024, l.GetPerConnectionBufferLimitBytes().GetValue())
				}
			}},
		{name: "patch outbound origin on a gateway", mods: []api.ProxyTemplateModification{listenerMod(api.OpPatch, "per_connection_buffer_limit_bytes: 1024",
			&api.ProxyTemplateListenerMatch{Origin: "outbound"})},
			problems: []want{{"conf.modifications[0].listener.match", `matches no listener (origin "outbound"); nothing changed`}}, unchanged: true},
		{name: "patch tags", mods: []api.ProxyTemplateModification{listenerMod(api.OpPatch, "per_connection_buffer_limit_bytes: 1024",
			&api.ProxyTemplateListenerMatch{Tags: map[string]string{"port": "http/8080"}})},
			problems:  []want{{"conf.modifications[0].listener.match.tags", "listener tags are not supported: meshgate's listeners carry no io.kuma.tags metadata; not applied"}},
			unchanged: true},
		{name: "patch invalid address", mods: []api.ProxyTemplateModification{listenerMod(api.OpPatch, "address: {socket_address: {address: 1.2.3.4, port_value: 70000}}",
			&api.ProxyTemplateListenerMatch{Name: httpListener})},
			problems:  []want{{"conf.modifications[0].listener", `listener "edge:HTTP:8080" would be invalid: invalid Listener.Address: embedded message failed validation`}},
			unchanged: true},
		{name: "add", mods: []api.ProxyTemplateModification{listenerMod(api.OpAdd, `
name: extra
address: {socket_address: {address: 192.168.1.1, port_value: 7070}}
filter_chains:
- filters:
  - name: envoy.filters.network.tcp_proxy
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
      stat_prefix: extra
      cluster: api
`, nil)},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, []string{httpListener, tcpListener, "extra"}, names(out.Listeners))
			}},
		{name: "add on a bound address", mods: []api.ProxyTemplateModification{listenerMod(api.OpAdd,
			"name: extra\naddress: {socket_address: {address: 192.168.1.1, port_value: 8080}}", nil)},
			problems:  []want{{"conf.modifications[0].listener", `listeners "edge:HTTP:8080" and "extra" both bind tcp 192.168.1.1:8080; not applied`}},
			unchanged: true},
		{name: "add with a missing route configuration", mods: []api.ProxyTemplateModification{listenerMod(api.OpAdd, `
name: extra
address: {socket_address: {address: 192.168.1.1, port_value: 7070}}
filter_chains:
- filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: extra
      rds: {route_config_name: nope, config_source: {ads: {}}}
      http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
`, nil)},
			problems:  []want{{"conf.modifications[0].listener", `listener "extra" loads route configuration "nope", which does not exist; not applied`}},
			unchanged: true},
		{name: "add existing", mods: []api.ProxyTemplateModification{listenerMod(api.OpAdd, "name: edge:TCP:9090", nil)},
			problems: []want{{"conf.modifications[0].listener.value", `a listener named "edge:TCP:9090" already exists`}}, unchanged: true},
		{name: "remove with its route configuration", mods: []api.ProxyTemplateModification{listenerMod(api.OpRemove, "",
			&api.ProxyTemplateListenerMatch{Name: httpListener})},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.Equal(t, []string{tcpListener}, names(out.Listeners))
				assert.Empty(t, out.Routes)
				assert.Len(t, out.Clusters, 2, "clusters stay")
			}},
		{name: "remove no match", mods: []api.ProxyTemplateModification{listenerMod(api.OpRemove, "", &api.ProxyTemplateListenerMatch{Name: "nope"})},
			problems: []want{{"conf.modifications[0].listener.match", `matches no listener (name "nope"); nothing changed`}}, unchanged: true},
		{name: "sidecar inbound origin", res: sidecar, mods: []api.ProxyTemplateModification{listenerMod(api.OpPatch,
			"per_connection_buffer_limit_bytes: 1024", &api.ProxyTemplateListenerMatch{Origin: "inbound"})},
			check: func(t *testing.T, out *envoyres.Resources) {
				assert.EqualValues(t, 1024, listener(out, "inbound:10.0.0.1:8080").GetPerConnectionBufferLimitBytes().GetValue())
				for _, l := range out.Listeners {
					if l.GetName() != "inbound:10.0.0.1:8080" {
						assert.NotEqualValues(t, 1024, l.GetPerConnectionBufferLimitBytes().GetValue(), l.GetName())
					}
				}
			}},
	})
}
