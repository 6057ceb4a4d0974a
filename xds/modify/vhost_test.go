package modify_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

func vhostMod(op api.ModificationOperation, value string, match *api.ProxyTemplateVirtualHostMatch) api.ProxyTemplateModification {
	return api.ProxyTemplateModification{VirtualHost: &api.ProxyTemplateVirtualHost{Operation: op, Value: value, Match: match}}
}

const extraHost = `
name: extra
domains: [extra.example.com]
routes:
- match: {prefix: /}
  direct_response: {status: 204}
`

func TestVirtualHostModifications(t *testing.T) {
	inRoute := &api.ProxyTemplateVirtualHostMatch{RouteConfigurationName: routeName}
	vhosts := func(want ...string) func(t *testing.T, out *envoyres.Resources) {
		return func(t *testing.T, out *envoyres.Resources) {
			assert.Equal(t, want, names(routeConfig(out, routeName).GetVirtualHosts()))
		}
	}
	runCases(t, []resourceCase{
		{name: "add", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, extraHost, inRoute)},
			check: vhosts("echo.example.com", "extra")},
		{name: "add to every route configuration", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, extraHost, nil)},
			check: vhosts("echo.example.com", "extra")},
		{name: "add by origin", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, extraHost, &api.ProxyTemplateVirtualHostMatch{Origin: "gateway"})},
			check: vhosts("echo.example.com", "extra")},
		{name: "add a taken domain", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, "name: extra\ndomains: [ECHO.example.com]", inRoute)},
			problems: []want{{"conf.modifications[0].virtualHost",
				`route configuration "edge:HTTP:8080:*": domain "echo.example.com" is in virtual hosts "echo.example.com" and "extra"; not applied`}},
			unchanged: true},
		{name: "add a taken name", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, "name: echo.example.com\ndomains: [x.example.com]", inRoute)},
			problems: []want{{"conf.modifications[0].virtualHost.value",
				`route configuration "edge:HTTP:8080:*" already has a virtual host named "echo.example.com"; not applied`}},
			unchanged: true},
		{name: "add a route to a missing cluster", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, `
name: extra
domains: [extra.example.com]
routes: [{match: {prefix: /}, route: {cluster: nope}}]
`, inRoute)},
			problems:  []want{{"conf.modifications[0].virtualHost", `route configuration "edge:HTTP:8080:*" references cluster "nope", which does not exist; not applied`}},
			unchanged: true},
		{name: "add without domains", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, "name: extra", inRoute)},
			problems:  []want{{"conf.modifications[0].virtualHost", "invalid VirtualHost.Domains: value must contain at least 1 item(s)"}},
			unchanged: true},
		{name: "patch", mods: []api.ProxyTemplateModification{vhostMod(api.OpPatch, "include_request_attempt_count: true\ndomains: [www.example.com]",
			&api.ProxyTemplateVirtualHostMatch{Name: "echo.example.com"})},
			check: func(t *testing.T, out *envoyres.Resources) {
				vh := routeConfig(out, routeName).GetVirtualHosts()[0]
				assert.True(t, vh.GetIncludeRequestAttemptCount())
				assert.Equal(t, []string{"echo.example.com", "www.example.com"}, vh.GetDomains(), "repeated fields append")
				require.Len(t, vh.GetRoutes(), 1)
			}},
		{name: "patch no such virtual host", mods: []api.ProxyTemplateModification{vhostMod(api.OpPatch, "include_request_attempt_count: true",
			&api.ProxyTemplateVirtualHostMatch{Name: "nope"})},
			problems:  []want{{"conf.modifications[0].virtualHost.match.name", `no virtual host named "nope" in the matched route configurations; nothing changed`}},
			unchanged: true},
		{name: "remove", mods: []api.ProxyTemplateModification{vhostMod(api.OpRemove, "", &api.ProxyTemplateVirtualHostMatch{Name: "echo.example.com"})},
			check: vhosts()},
		{name: "no route configuration", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, extraHost, &api.ProxyTemplateVirtualHostMatch{RouteConfigurationName: "nope"})},
			problems:  []want{{"conf.modifications[0].virtualHost.match", `matches no route configuration (routeConfigurationName "nope"); nothing changed`}},
			unchanged: true},
		{name: "inbound origin on a gateway", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, extraHost, &api.ProxyTemplateVirtualHostMatch{Origin: "inbound"})},
			problems:  []want{{"conf.modifications[0].virtualHost.match", `matches no route configuration (origin "inbound"); nothing changed`}},
			unchanged: true},
		{name: "unknown field", mods: []api.ProxyTemplateModification{vhostMod(api.OpAdd, "name: extra\ndomain: [x]", inRoute)},
			problems:  []want{{"conf.modifications[0].virtualHost.value", `unknown field "domain" in envoy.config.route.v3.VirtualHost; not applied`}},
			unchanged: true},
	})
}
