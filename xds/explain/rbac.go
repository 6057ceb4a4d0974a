package explain

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// checkRBAC is Envoy's network RBAC filter on the connection: the policies in name order (Envoy
// keeps them in a sorted map), the first whose permissions and principals both match decides.
// Under ALLOW a match admits the connection and no match closes it; under DENY the reverse.
// It reports false when Envoy closes the connection, with the Result saying why.
func (e *explainer) checkRBAC(r *rbacv3.RBAC, c conn) (bool, error) {
	chk := RBACCheck{Action: "ALLOW"}
	if p := e.req.Source; p != nil && c.tls {
		chk.Peer = p.URIs[0]
	}
	rules := r.GetRules()
	if rules == nil {
		// No rules: the filter enforces nothing (only shadow rules, if any, are logged).
		chk.Allowed = true
		e.out.RBAC = append(e.out.RBAC, chk)
		return true, nil
	}
	switch rules.GetAction() {
	case rbacconfigv3.RBAC_ALLOW:
	case rbacconfigv3.RBAC_DENY:
		chk.Action = "DENY"
	default:
		return false, fmt.Errorf("RBAC action %s is not interpreted by explain", rules.GetAction())
	}
	names := make([]string, 0, len(rules.GetPolicies()))
	for n := range rules.GetPolicies() {
		names = append(names, n)
	}
	sort.Strings(names)
	chk.Considered = names
	matched := ""
	var principal string
	for _, n := range names {
		p := rules.GetPolicies()[n]
		ok, who, err := e.policyMatches(p, c)
		if errors.Is(err, errUnsupported) {
			e.out.note("RBAC policy %s skipped: %v", n, err)
			continue
		}
		if err != nil {
			return false, fmt.Errorf("RBAC policy %s: %w", n, err)
		}
		if ok {
			matched, principal = n, who
			break
		}
	}
	chk.Policy, chk.Principal = matched, principal
	chk.Allowed = (matched != "") == (chk.Action == "ALLOW")
	e.out.RBAC = append(e.out.RBAC, chk)
	if chk.Allowed {
		return true, nil
	}
	e.out.Action = &Action{Close: true}
	if matched != "" {
		e.out.Reason = fmt.Sprintf("the RBAC filter denies the connection (policy %s): Envoy closes it", matched)
	} else {
		e.out.Reason = "no RBAC policy admits the client: Envoy closes the connection"
	}
	return false, nil
}

// policyMatches: some permission and some principal match; who describes the principal.
func (e *explainer) policyMatches(p *rbacconfigv3.Policy, c conn) (bool, string, error) {
	if p.GetCondition() != nil || p.GetCelConfig() != nil || p.GetCheckedCondition() != nil {
		return false, "", unsupported("it has a CEL condition")
	}
	perm := false
	for _, pm := range p.GetPermissions() {
		ok, err := e.permission(pm, c)
		if err != nil {
			return false, "", err
		}
		if ok {
			perm = true
			break
		}
	}
	if !perm {
		return false, "", nil
	}
	for _, pr := range p.GetPrincipals() {
		ok, err := e.principal(pr, c)
		if err != nil {
			return false, "", err
		}
		if ok {
			return true, describePrincipal(pr), nil
		}
	}
	return false, "", nil
}

func (e *explainer) permission(p *rbacconfigv3.Permission, c conn) (bool, error) {
	switch r := p.GetRule().(type) {
	case *rbacconfigv3.Permission_Any:
		return r.Any, nil
	case *rbacconfigv3.Permission_DestinationPort:
		return c.port == r.DestinationPort, nil
	case *rbacconfigv3.Permission_DestinationPortRange:
		return int64(c.port) >= int64(r.DestinationPortRange.GetStart()) && int64(c.port) < int64(r.DestinationPortRange.GetEnd()), nil
	case *rbacconfigv3.Permission_AndRules:
		for _, x := range r.AndRules.GetRules() {
			if ok, err := e.permission(x, c); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case *rbacconfigv3.Permission_OrRules:
		for _, x := range r.OrRules.GetRules() {
			if ok, err := e.permission(x, c); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case *rbacconfigv3.Permission_NotRule:
		ok, err := e.permission(r.NotRule, c)
		return !ok && err == nil, err
	}
	return false, unsupported("permission %T", p.GetRule())
}

// principal follows Envoy's RBAC matchers. authenticated.principal_name is checked against each
// URI SAN of the peer certificate and matches if any does (Envoy falls back to DNS SANs and
// then the subject only for certificates without URI SANs, which a mesh never issues).
func (e *explainer) principal(p *rbacconfigv3.Principal, c conn) (bool, error) {
	switch id := p.GetIdentifier().(type) {
	case *rbacconfigv3.Principal_Any:
		return id.Any, nil
	case *rbacconfigv3.Principal_Authenticated_:
		peer := e.req.Source
		if peer == nil || !c.tls {
			return false, nil // no peer certificate: not authenticated
		}
		m := id.Authenticated.GetPrincipalName()
		if m == nil {
			return true, nil
		}
		for _, u := range peer.URIs {
			ok, err := e.matchString(m, u)
			if ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case *rbacconfigv3.Principal_AndIds:
		for _, x := range id.AndIds.GetIds() {
			if ok, err := e.principal(x, c); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case *rbacconfigv3.Principal_OrIds:
		for _, x := range id.OrIds.GetIds() {
			if ok, err := e.principal(x, c); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case *rbacconfigv3.Principal_NotId:
		ok, err := e.principal(id.NotId, c)
		return !ok && err == nil, err
	}
	return false, unsupported("principal %T (the client's address and headers are unknown)", p.GetIdentifier())
}

// describePrincipal renders a principal for people: `spiffe://shop/checkout`,
// `prefix spiffe://shop/`, `spiffe://a/b and kuma://version/v1`.
func describePrincipal(p *rbacconfigv3.Principal) string {
	switch id := p.GetIdentifier().(type) {
	case *rbacconfigv3.Principal_Any:
		return "any"
	case *rbacconfigv3.Principal_Authenticated_:
		if id.Authenticated.GetPrincipalName() == nil {
			return "any authenticated client"
		}
		return principalName(id.Authenticated.GetPrincipalName())
	case *rbacconfigv3.Principal_AndIds:
		parts := make([]string, 0, len(id.AndIds.GetIds()))
		for _, x := range id.AndIds.GetIds() {
			parts = append(parts, describePrincipal(x))
		}
		return strings.Join(parts, " and ")
	case *rbacconfigv3.Principal_OrIds:
		parts := make([]string, 0, len(id.OrIds.GetIds()))
		for _, x := range id.OrIds.GetIds() {
			parts = append(parts, describePrincipal(x))
		}
		return "(" + strings.Join(parts, " or ") + ")"
	case *rbacconfigv3.Principal_NotId:
		if a := id.NotId.GetAuthenticated(); a != nil && a.GetPrincipalName() != nil {
			// authenticated matches when any URI SAN does: its negation, when none does.
			return "no URI SAN " + principalName(a.GetPrincipalName())
		}
		return "not (" + describePrincipal(id.NotId) + ")"
	}
	return fmt.Sprintf("%T", p.GetIdentifier())
}

// principalName is an exact name as itself and any other matcher as its kind and pattern.
func principalName(m *matcherv3.StringMatcher) string {
	if x, ok := m.GetMatchPattern().(*matcherv3.StringMatcher_Exact); ok && !m.GetIgnoreCase() {
		return x.Exact
	}
	return stringMatchWords(describeString(m))
}
