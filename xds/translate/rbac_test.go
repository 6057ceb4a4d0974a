package translate

import (
	"testing"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func translateRBAC(t *testing.T, r ir.RBAC) *rbacv3.RBAC {
	t.Helper()
	f, err := rbacFilter(r)
	require.NoError(t, err)
	requireValid(t, f)
	assert.Equal(t, "envoy.filters.network.rbac", f.GetName())
	out := unpack(t, f.GetTypedConfig(), &rbacv3.RBAC{})
	requireValid(t, out)
	return out
}

func TestRBACPrincipals(t *testing.T) {
	exact := ir.SANMatch{Kind: ir.SANExact, Value: "spiffe://default/web"}
	prefix := ir.SANMatch{Kind: ir.SANPrefix, Value: "spiffe://default/"}
	regex := ir.SANMatch{Kind: ir.SANRegex, Value: `kuma://version/v\d+`}
	cases := []struct {
		name  string
		in    ir.Principal
		check func(t *testing.T, p *rbacconfigv3.Principal)
	}{
		{"one exact matcher is authenticated", ir.Principal{URIs: []ir.SANMatch{exact}}, func(t *testing.T, p *rbacconfigv3.Principal) {
			assert.Equal(t, "spiffe://default/web", p.GetAuthenticated().GetPrincipalName().GetExact())
		}},
		{"one prefix matcher", ir.Principal{URIs: []ir.SANMatch{prefix}}, func(t *testing.T, p *rbacconfigv3.Principal) {
			assert.Equal(t, "spiffe://default/", p.GetAuthenticated().GetPrincipalName().GetPrefix())
		}},
		{"one regex matcher, default engine", ir.Principal{URIs: []ir.SANMatch{regex}}, func(t *testing.T, p *rbacconfigv3.Principal) {
			re := p.GetAuthenticated().GetPrincipalName().GetSafeRegex()
			assert.Equal(t, `kuma://version/v\d+`, re.GetRegex())
			assert.Nil(t, re.GetGoogleRe2())
		}},
		{"several matchers are and_ids", ir.Principal{URIs: []ir.SANMatch{exact, regex}}, func(t *testing.T, p *rbacconfigv3.Principal) {
			assert.Nil(t, p.GetAuthenticated())
			ids := p.GetAndIds().GetIds()
			require.Len(t, ids, 2)
			assert.Equal(t, "spiffe://default/web", ids[0].GetAuthenticated().GetPrincipalName().GetExact())
			assert.Equal(t, `kuma://version/v\d+`, ids[1].GetAuthenticated().GetPrincipalName().GetSafeRegex().GetRegex())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := translateRBAC(t, ir.RBAC{StatPrefix: "inbound:10.0.0.1:80.", Policies: []ir.RBACPolicy{{Name: "tp", Principals: []ir.Principal{c.in}}}})
			assert.Equal(t, "inbound:10.0.0.1:80.", out.GetStatPrefix())
			assert.Equal(t, rbacconfigv3.RBAC_ALLOW, out.GetRules().GetAction())
			pol := out.GetRules().GetPolicies()["tp"]
			require.NotNil(t, pol)
			require.Len(t, pol.GetPermissions(), 1)
			assert.True(t, pol.GetPermissions()[0].GetAny())
			require.Len(t, pol.GetPrincipals(), 1)
			c.check(t, pol.GetPrincipals()[0])
		})
	}
}

func TestRBACPoliciesByName(t *testing.T) {
	out := translateRBAC(t, ir.RBAC{StatPrefix: "s", Policies: []ir.RBACPolicy{
		{Name: "b", Principals: []ir.Principal{{URIs: []ir.SANMatch{{Kind: ir.SANExact, Value: "spiffe://m/x"}}}, {URIs: []ir.SANMatch{{Kind: ir.SANExact, Value: "spiffe://m/y"}}}}},
		{Name: "a", Principals: []ir.Principal{{URIs: []ir.SANMatch{{Kind: ir.SANPrefix, Value: "spiffe://m/"}}}}},
	}})
	pols := out.GetRules().GetPolicies()
	require.Len(t, pols, 2)
	require.Len(t, pols["b"].GetPrincipals(), 2, "principals are ORed within a policy")
	assert.Equal(t, "spiffe://m/y", pols["b"].GetPrincipals()[1].GetAuthenticated().GetPrincipalName().GetExact())
	assert.Equal(t, "spiffe://m/", pols["a"].GetPrincipals()[0].GetAuthenticated().GetPrincipalName().GetPrefix())
}

func TestRBACWithoutPoliciesAdmitsNobody(t *testing.T) {
	out := translateRBAC(t, ir.RBAC{StatPrefix: "s"})
	require.NotNil(t, out.GetRules(), "rules present: without them the filter would admit everybody")
	assert.Equal(t, rbacconfigv3.RBAC_ALLOW, out.GetRules().GetAction())
	assert.Empty(t, out.GetRules().GetPolicies())
}

// RBAC follows the listener-wide filters and precedes the connection manager or TCP proxy.
func TestRBACPlacement(t *testing.T) {
	r := &ir.RBAC{StatPrefix: "s"}
	http := fixture().Listeners[1] // has a connection limit
	http.FilterChains[0].RBAC = r
	tcp := fixture().Listeners[0]
	tcp.ConnectionLimit = 10
	tcp.FilterChains[1].RBAC = r
	for _, l := range []ir.Listener{http, tcp} {
		out, _, err := listener(l)
		require.NoError(t, err)
		requireValid(t, out)
		for i, fc := range l.FilterChains {
			got := filterNames(out.GetFilterChains()[i])
			if fc.RBAC == nil {
				assert.NotContains(t, got, wellknown.RoleBasedAccessControl)
				continue
			}
			last := wellknown.TCPProxy
			if fc.HTTP != nil {
				last = wellknown.HTTPConnectionManager
			}
			assert.Equal(t, []string{"envoy.filters.network.connection_limit", wellknown.RoleBasedAccessControl, last}, got)
		}
	}
}
