package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProxyTemplateValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: ProxyTemplate default/pt: ", line) + rest
	}
	const head = "type: ProxyTemplate\nname: pt\nselectors: [{match: {kuma.io/service: gw}}]\n"
	// conf starts on line 4, its first field on line 5.
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	runErrCases(t, []errCase{
		// Kuma requires neither selectors nor conf.
		{"valid empty", "type: ProxyTemplate\nname: pt\n", nil},
		{"valid without conf", head, nil},
		{"valid imports", conf("  imports: [default-proxy, gateway-proxy]\n"), nil},
		{"valid modifications", conf(`
  modifications:
  - cluster: {operation: add, value: "name: a"}
  - cluster: {operation: patch, value: "{connectTimeout: 1s}"}
  - cluster: {operation: remove, match: {origin: outbound}}
  - listener: {operation: add, value: "name: l"}
  - listener: {operation: remove, match: {tags: {kuma.io/service: gw}}}
  - networkFilter: {operation: addFirst, value: "name: f"}
  - networkFilter: {operation: addLast, value: "name: f", match: {listenerName: l}}
  - networkFilter: {operation: addAfter, value: "name: f", match: {name: g}}
  - networkFilter: {operation: patch, value: "name: f", match: {name: g}}
  - networkFilter: {operation: remove}
  - httpFilter: {operation: addBefore, value: "name: f", match: {name: envoy.filters.http.router}}
  - httpFilter: {operation: remove, match: {listenerTags: {a: b}}}
  - virtualHost: {operation: add, value: "name: v", match: {routeConfigurationName: r, origin: gateway}}
  - virtualHost: {operation: patch, value: "{}", match: {name: v}}
  - virtualHost: {operation: remove}
`), nil},
		{"selectors", "type: ProxyTemplate\nname: pt\nselectors:\n- match: {}\n- match: {\"\": x, kuma.io/service: \"\"}\n", []string{
			e(4, "selectors[0].match: must have at least one tag"),
			e(4, `selectors[0].match: mandatory tag "kuma.io/service" is missing`),
			e(5, "selectors[1].match: tag name must be non-empty"),
			e(5, `selectors[1].match["kuma.io/service"]: tag value must be non-empty`)}},
		{"imports", conf("  imports:\n  - \"\"\n  - ingress-proxy\n"), []string{
			e(6, "conf.imports[0]: cannot be empty"),
			e(7, "conf.imports[1]: profile not found. Available profiles: default-proxy,gateway-proxy")}},
		{"resources", conf(`
  resources:
  - name: ""
    version: ""
    resource: ""
  - name: a
    version: v1
    resource: "a: [b"
  - name: b
    version: v1
    resource: "- a"
`), []string{
			e(6, "conf.resources[0].name: cannot be empty"),
			e(7, "conf.resources[0].version: cannot be empty"),
			e(8, "conf.resources[0].resource: cannot be empty"),
			e(11, "conf.resources[1].resource: native Envoy resource is not valid: line 1: did not find expected ',' or ']'"),
			e(14, "conf.resources[2].resource: native Envoy resource is not valid: must be a YAML or JSON mapping")}},
		{"modification types", conf(`
  modifications:
  - {}
  - cluster: {operation: remove}
    listener: {operation: remove}
`), []string{
			e(6, `conf.modifications[0]: must have one of "cluster", "listener", "networkFilter", "httpFilter" or "virtualHost"`),
			e(7, `conf.modifications[1]: only one of "cluster", "listener", "networkFilter", "httpFilter" or "virtualHost" can be set`)}},
		{"cluster and listener", conf(`
  modifications:
  - cluster:
      operation: add
      match: {name: a}
  - cluster:
      operation: patch
      value: "   "
  - cluster:
      operation: Add
  - listener:
      operation: add
      match: {}
      value: "name: l"
  - listener:
      operation: patch
      value: "[a]"
  - listener: {}
`), []string{
			e(6, "conf.modifications[0].cluster.value: cannot be empty"),
			e(8, "conf.modifications[0].cluster.match: cannot be defined"),
			e(11, "conf.modifications[1].cluster.value: cannot be empty"),
			e(13, `conf.modifications[2].cluster.operation: invalid operation. Available operations: "add", "patch", "remove"`),
			e(16, "conf.modifications[3].listener.match: cannot be defined"),
			e(20, "conf.modifications[4].listener.value: native Envoy resource is not valid: must be a YAML or JSON mapping"),
			e(21, `conf.modifications[5].listener.operation: invalid operation. Available operations: "add", "patch", "remove"`)}},
		{"filters", conf(`
  modifications:
  - networkFilter:
      operation: addBefore
      value: "name: f"
  - networkFilter:
      operation: addAfter
      match: {listenerName: l}
      value: "name: f"
  - networkFilter:
      operation: patch
      value: "name: f"
  - networkFilter:
      operation: add
  - httpFilter:
      operation: addFirst
  - httpFilter:
      operation: patch
      match: {name: ""}
      value: "name: f"
  - httpFilter:
      operation: replace
`), []string{
			e(6, "conf.modifications[0].networkFilter.match.name: cannot be empty. You need to pick a filter before which this one will be added"),
			e(11, "conf.modifications[1].networkFilter.match.name: cannot be empty. You need to pick a filter after which this one will be added"),
			e(13, "conf.modifications[2].networkFilter.match.name: cannot be empty"),
			e(17, `conf.modifications[3].networkFilter.operation: invalid operation. Available operations: "addFirst", "addLast", "addBefore", "addAfter", "patch", "remove"`),
			e(18, "conf.modifications[4].httpFilter.value: cannot be empty"),
			e(22, "conf.modifications[5].httpFilter.match.name: cannot be empty"),
			e(25, `conf.modifications[6].httpFilter.operation: invalid operation. Available operations: "addFirst", "addLast", "addBefore", "addAfter", "patch", "remove"`)}},
		{"virtual host", conf(`
  modifications:
  - virtualHost:
      operation: add
      match: {name: v, routeConfigurationName: r}
      value: "name: v"
  - virtualHost:
      operation: patch
`), []string{
			e(8, "conf.modifications[0].virtualHost.match.name: cannot be defined"),
			e(10, "conf.modifications[1].virtualHost.value: cannot be empty")}},
		{"value is a string", conf("  modifications:\n  - cluster:\n      operation: add\n      value: {name: a}\n"), []string{
			e(8, "conf.modifications[0].cluster.value: must be a string")}},
		{"unknown field", conf("  modifications:\n  - cluster: {operation: add, value: 'name: a', match: {listenerName: x}}\n"), []string{
			e(6, `conf.modifications[0].cluster.match: unknown field "listenerName"`)}},
	})

	pt := loadPolicy[*ProxyTemplate](t, "proxytemplate")
	assert.Equal(t, []map[string]string{{ServiceTag: "edge-gateway"}}, pt.Selectors())
	assert.Equal(t, []string{ProfileGatewayProxy}, pt.Imports())
	c := pt.Spec.Conf
	require.Len(t, c.Resources, 1)
	assert.Equal(t, "localhost:8443", c.Resources[0].Name)
	assert.Contains(t, c.Resources[0].Resource, "'@type': type.googleapis.com/envoy.config.cluster.v3.Cluster\n")
	var types []string
	for _, m := range c.Modifications {
		types = append(types, m.Type())
	}
	assert.Equal(t, []string{"cluster", "cluster", "listener", "networkFilter", "httpFilter", "httpFilter", "virtualHost"}, types)
	assert.Equal(t, OpPatch, c.Modifications[0].Cluster.Operation)
	assert.Equal(t, "connectTimeout: 3s\n", c.Modifications[0].Cluster.Value)
	assert.Equal(t, map[string]string{ServiceTag: "edge-gateway"}, c.Modifications[3].NetworkFilter.Match.ListenerTags)
	assert.Equal(t, "edge:HTTP:8080", c.Modifications[6].VirtualHost.Match.RouteConfigurationName)
	assert.Equal(t, "", ProxyTemplateModification{}.Type())
	assert.Nil(t, (&ProxyTemplate{}).Imports())
}
