package v1alpha1

// Validate checks a MeshGatewayRoute with Kuma's rules
// (pkg/core/resources/apis/mesh/gateway_route_validator.go) plus the ones Kuma lacks and then
// fails on (docs/kuma-compatibility.md#meshgatewayroute-validation "Gaps"). Kuma reports a path value at `matches[i].value`; meshgate at
// `matches[i].path.value`, where it is written. Filter indexes are those of the document (Kuma
// renumbers them after dropping host rewrites).
func (r *MeshGatewayRoute) Validate() ErrorList {
	var v validator
	v.meta(&r.Meta)
	v.selectors("selectors", r.Spec.Selectors, false, selectorRules)
	v.routeConf("conf", r.Spec.Conf)
	return v.errs
}

func (v *validator) routeConf(path string, c *RouteConf) {
	if c == nil || (c.TCP == nil && c.HTTP == nil) {
		v.add(path, "cannot be empty")
		return
	}
	if c.TCP != nil && c.HTTP != nil {
		v.add(path, "only one of tcp or http can be set")
	}
	if c.TCP != nil {
		v.tcpRoute(joinField(path, "tcp"), c.TCP)
	}
	if c.HTTP != nil {
		v.httpRoute(joinField(path, "http"), c.HTTP)
	}
}

// tcpRoute: Kuma checks nothing here, but a rule without backends forwards nowhere.
func (v *validator) tcpRoute(path string, t *TCPRoute) {
	rules := joinField(path, "rules")
	if len(t.Rules) == 0 {
		v.add(rules, "cannot be empty")
	}
	for i, r := range t.Rules {
		rp := joinIndex(rules, i)
		if len(r.Backends) == 0 {
			v.add(joinField(rp, "backends"), "cannot be empty")
		}
		v.backends(joinField(rp, "backends"), r.Backends)
	}
}

func (v *validator) httpRoute(path string, h *HTTPRoute) {
	for i, host := range h.Hostnames {
		v.hostname(joinIndex(joinField(path, "hostnames"), i), host)
	}
	rules := joinField(path, "rules")
	if len(h.Rules) == 0 {
		v.add(rules, "cannot be empty")
	}
	for i, r := range h.Rules {
		v.httpRule(joinIndex(rules, i), r)
	}
}

func (v *validator) httpRule(path string, r HTTPRule) {
	matches := joinField(path, "matches")
	if len(r.Matches) == 0 {
		v.add(matches, "cannot be empty")
	}
	hasPrefix := false
	for i, m := range r.Matches {
		v.httpMatch(joinIndex(matches, i), m)
		if m.Path != nil && m.Path.Type() == PathPrefix {
			hasPrefix = true
		}
	}

	hostRewrite, hasRedirect := false, false
	for _, f := range r.Filters {
		hostRewrite = hostRewrite || (f.Rewrite != nil && f.Rewrite.HostToBackendHostname)
		hasRedirect = hasRedirect || f.Redirect != nil
	}
	filters := joinField(path, "filters")
	for i, f := range r.Filters {
		v.httpFilter(joinIndex(filters, i), f, hasPrefix, hostRewrite)
	}
	if hasRedirect && len(r.Filters) != 1 {
		v.add(filters, "redirects cannot be used with other filters")
		// As in Kuma: whether backends are expected is ambiguous now.
		return
	}

	backends := joinField(path, "backends")
	switch {
	case len(r.Backends) == 0 && !hasRedirect:
		v.add(backends, "cannot be empty")
	case len(r.Backends) > 0 && hasRedirect:
		v.add(backends, "must be empty when using redirect filters")
	}
	v.backends(backends, r.Backends)
}

// backends checks each destination and that the rule sends traffic somewhere.
func (v *validator) backends(path string, bs []Backend) {
	weighted := false
	for i, b := range bs {
		v.tags(joinField(joinIndex(path, i), "destination"), b.Destination, selectorRules)
		weighted = weighted || b.EffectiveWeight() > 0
	}
	if len(bs) > 0 && !weighted {
		v.add(path, "at least one backend must have a non-zero weight")
	}
}

func (v *validator) httpMatch(path string, m HTTPMatch) {
	if m.Path == nil && m.Method == "" && len(m.Headers) == 0 && len(m.QueryParameters) == 0 {
		v.add(path, "cannot be empty")
	}
	if p := m.Path; p != nil {
		value := joinField(joinField(path, "path"), "value")
		switch p.Type() {
		case PathRegex:
			if p.Value == "" {
				v.add(value, "cannot be empty")
			} else {
				v.regex(value, p.Value)
			}
		case PathPrefix:
			if p.Value != "/" && !hasSlashPrefix(p.Value) {
				v.add(value, "must be an absolute path")
			}
		default:
			if !hasSlashPrefix(p.Value) {
				v.add(value, "must be an absolute path")
			}
		}
	}
	if m.Method != "" && !validMethod(m.Method) {
		v.add(joinField(path, "method"), "must be one of "+httpMethodList)
	}
	for i, h := range m.Headers {
		hp := joinIndex(joinField(path, "headers"), i)
		v.headerName(joinField(hp, "name"), h.Name, true)
		value := joinField(hp, "value")
		switch h.Type() {
		case HeaderAbsent, HeaderPresent:
			if h.Value != "" {
				v.add(value, "cannot be set")
			}
		default:
			if h.Value == "" {
				v.add(value, "cannot be empty")
			} else if h.Type() == HeaderRegex {
				v.regex(value, h.Value)
			}
		}
	}
	for i, q := range m.QueryParameters {
		qp := joinIndex(joinField(path, "queryParameters"), i)
		if q.Name == "" {
			v.add(joinField(qp, "name"), "cannot be empty")
		}
		if q.Value == "" {
			v.add(joinField(qp, "value"), "cannot be empty")
		} else if q.Type() == QueryRegex {
			v.regex(joinField(qp, "value"), q.Value)
		}
	}
}

func hasSlashPrefix(s string) bool { return len(s) > 0 && s[0] == '/' }
