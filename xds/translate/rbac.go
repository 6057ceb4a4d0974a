package translate

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/meshgate/meshgate/xds/ir"
)

// rbacFilter is Envoy's network RBAC filter (envoy.filters.network.rbac): action ALLOW, one
// policy per ir.RBACPolicy keyed by its name, each with the permission `any: true` and one
// principal per ir.Principal. Without policies the rules are present but empty, which under
// ALLOW admits nobody, as the IR requires.
func rbacFilter(r ir.RBAC) (*listenerv3.Filter, error) {
	a, err := toAny(&rbacv3.RBAC{StatPrefix: r.StatPrefix, Rules: RBACRules(r)})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{
		Name:       wellknown.RoleBasedAccessControl,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a},
	}, nil
}

// RBACRules are the rules of r: action ALLOW, one policy per ir.RBACPolicy keyed by its name,
// each with the permission `any: true` and one principal per ir.Principal. The network filter
// above and a proxyless dataplane's HTTP RBAC filter (xds/translate/proxyless) share them.
func RBACRules(r ir.RBAC) *rbacconfigv3.RBAC {
	rules := &rbacconfigv3.RBAC{Action: rbacconfigv3.RBAC_ALLOW, Policies: map[string]*rbacconfigv3.Policy{}}
	for _, p := range r.Policies {
		policy := &rbacconfigv3.Policy{
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
		}
		for _, pr := range p.Principals {
			policy.Principals = append(policy.Principals, principal(pr))
		}
		rules.Policies[p.Name] = policy
	}
	return rules
}

// principal is `authenticated{principal_name}` for a single matcher and `and_ids` of those for
// several: Envoy checks principal_name against each URI SAN of the peer certificate, so every
// matcher may be satisfied by a different SAN.
func principal(p ir.Principal) *rbacconfigv3.Principal {
	if len(p.URIs) == 1 && len(p.NotURIs) == 0 {
		return authenticated(p.URIs[0])
	}
	set := &rbacconfigv3.Principal_Set{}
	for _, m := range p.URIs {
		set.Ids = append(set.Ids, authenticated(m))
	}
	for _, m := range p.NotURIs {
		set.Ids = append(set.Ids, &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_NotId{NotId: authenticated(m)}})
	}
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_AndIds{AndIds: set}}
}

func authenticated(m ir.SANMatch) *rbacconfigv3.Principal {
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_Authenticated_{
		Authenticated: &rbacconfigv3.Principal_Authenticated{PrincipalName: sanMatcher(m)},
	}}
}

// sanMatcher is exact, prefix or safe_regex; the regex engine is left unset, as for routes, so
// Envoy applies its default (RE2).
func sanMatcher(m ir.SANMatch) *matcherv3.StringMatcher {
	switch m.Kind {
	case ir.SANPrefix:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: m.Value}}
	case ir.SANRegex:
		return safeRegex(m.Value)
	default:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: m.Value}}
	}
}
