package v1alpha1

import (
	"fmt"
	"regexp"
	"strings"
)

// Validate checks a TrafficRoute with Kuma's rules (pkg/core/resources/apis/mesh/
// traffic_route_validator.go). Gateways ignore TrafficRoutes, so nothing beyond Kuma's rules is
// checked, except what protojson itself rejects: two members of a oneof.
func (r *TrafficRoute) Validate() ErrorList {
	var v validator
	v.meta(&r.Meta)
	v.selectors("sources", r.Spec.Sources, false, sourceRules(true))
	v.selectors("destinations", r.Spec.Destinations, false, onlyServiceRules)
	c := r.Spec.Conf
	if c == nil {
		v.add("conf", "cannot be empty")
		return v.errs
	}
	v.splitAndDestination("conf", c.Split, c.Destination)
	for i, h := range c.HTTP {
		v.trafficRouteHTTP(joinIndex("conf.http", i), h)
	}
	v.trafficRouteLoadBalancer("conf.loadBalancer", c.LoadBalancer)
	return v.errs
}

// oneOf reports a oneof with more than one member set; names lists the members, set whether
// each is set. It returns how many are set.
func (v *validator) oneOf(path string, names []string, set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	if n > 1 {
		v.addf(path, "only one of %s can be set", quotedList(names))
	}
	return n
}

// quotedList renders names as `"a", "b" or "c"`.
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func (v *validator) splitAndDestination(path string, split []TrafficRouteSplit, dest map[string]string) {
	switch {
	case len(split) == 0 && len(dest) == 0:
		v.add(path, `requires either "destination" or "split"`)
	case len(split) > 0 && len(dest) > 0:
		v.add(path, `"split" cannot be defined at the same time as "destination"`)
	}
	if len(split) > 0 {
		sp := joinField(path, "split")
		var total uint64
		for i, s := range split {
			if s.Weight == nil {
				v.add(joinField(joinIndex(sp, i), "weight"), "needs to be defined")
			} else {
				total += uint64(*s.Weight)
			}
			v.tags(joinField(joinIndex(sp, i), "destination"), s.Destination, selectorRules)
		}
		if total == 0 {
			v.add(sp, "there must be at least one split entry with weight above 0")
		}
	}
	if len(dest) > 0 {
		v.tags(joinField(path, "destination"), dest, selectorRules)
	}
}

func (v *validator) trafficRouteHTTP(path string, h TrafficRouteHTTP) {
	mp := joinField(path, "match")
	m := h.Match
	if m == nil || (m.Path == nil && m.Method == nil && m.Headers == nil) {
		v.add(mp, `must be present and contain at least one of the elements: "method", "path" or "headers"`)
	} else {
		if m.Method != nil {
			v.stringMatcher(joinField(mp, "method"), *m.Method)
		}
		if m.Path != nil {
			v.stringMatcher(joinField(mp, "path"), *m.Path)
		}
		hp := joinField(mp, "headers")
		if m.Headers != nil && len(m.Headers) == 0 {
			v.add(hp, "must contain at least one element")
		}
		for _, key := range sortedKeys(m.Headers) {
			if key == "" {
				v.add(joinKey(hp, key), "cannot be empty")
			}
			v.stringMatcher(joinKey(hp, key), m.Headers[key])
		}
	}
	if mod := h.Modify; mod != nil {
		p := joinField(path, "modify")
		if mod.Path != nil {
			v.modifyPath(joinField(p, "path"), *mod.Path, m)
		}
		if mod.Host != nil {
			v.modifyHost(joinField(p, "host"), *mod.Host)
		}
		if mod.RequestHeaders != nil {
			v.modifyHeaders(joinField(p, "requestHeaders"), *mod.RequestHeaders)
		}
		if mod.ResponseHeaders != nil {
			v.modifyHeaders(joinField(p, "responseHeaders"), *mod.ResponseHeaders)
		}
	}
	v.splitAndDestination(path, h.Split, h.Destination)
}

func (v *validator) stringMatcher(path string, m TrafficRouteStringMatcher) {
	names := []string{"exact", "prefix", "regex"}
	switch v.oneOf(path, names, m.Exact != nil, m.Prefix != nil, m.Regex != nil) {
	case 0:
		// Kuma's message says "split" where it means "prefix"; this one says "prefix".
		v.add(path, `cannot be empty. Available options: "exact", "prefix" or "regex"`)
	case 1:
		if m.Prefix != nil && *m.Prefix == "" {
			v.add(joinField(path, "prefix"), "cannot be empty")
		}
		if m.Regex != nil && *m.Regex == "" {
			v.add(joinField(path, "regex"), "cannot be empty")
		}
	}
}

func (v *validator) modifyPath(path string, p TrafficRouteModifyPath, m *TrafficRouteHTTPMatch) {
	switch v.oneOf(path, []string{"rewritePrefix", "regex"}, p.RewritePrefix != nil, p.Regex != nil) {
	case 0:
		v.add(path, `either "rewritePrefix" or "regex" has to be set`)
	case 1:
		if p.RewritePrefix != nil {
			rp := joinField(path, "rewritePrefix")
			if *p.RewritePrefix == "" {
				v.add(rp, "cannot be empty")
			} else if m == nil || m.Path == nil || m.Path.Prefix == nil || *m.Path.Prefix == "" {
				v.add(rp, "can only be set when .http.match.path.prefix is not empty")
			}
		} else {
			v.regexReplace(joinField(path, "regex"), *p.Regex)
		}
	}
}

func (v *validator) modifyHost(path string, h TrafficRouteModifyHost) {
	switch v.oneOf(path, []string{"value", "fromPath"}, h.Value != nil, h.FromPath != nil) {
	case 0:
		v.add(path, `either "value" or "fromPath" has to be set`)
	case 1:
		if h.Value != nil {
			if *h.Value == "" {
				v.add(joinField(path, "value"), "cannot be empty")
			}
		} else {
			v.regexReplace(joinField(path, "fromPath"), *h.FromPath)
		}
	}
}

func (v *validator) regexReplace(path string, r TrafficRouteRegexReplace) {
	if r.Pattern == "" {
		v.add(joinField(path, "pattern"), "cannot be empty")
	}
	if r.Substitution == "" {
		v.add(joinField(path, "substitution"), "cannot be empty")
	}
}

func (v *validator) modifyHeaders(path string, h TrafficRouteModifyHeaders) {
	for i, a := range h.Add {
		p := joinIndex(joinField(path, "add"), i)
		v.modifiableHeader(joinField(p, "name"), a.Name)
		if a.Value == "" {
			v.add(joinField(p, "value"), "cannot be empty")
		}
	}
	for i, r := range h.Remove {
		v.modifiableHeader(joinField(joinIndex(joinField(path, "remove"), i), "name"), r.Name)
	}
}

func (v *validator) modifiableHeader(path, name string) {
	switch {
	case name == "":
		v.add(path, "cannot be empty")
	case name[0] == ':' || name == "host" || name == "Host":
		v.add(path, "host header and HTTP/2 pseudo-headers are not allowed to be modified")
	}
}

func (v *validator) trafficRouteLoadBalancer(path string, lb *TrafficRouteLoadBalancer) {
	if lb == nil {
		return
	}
	v.oneOf(path, []string{"roundRobin", "leastRequest", "ringHash", "random", "maglev"},
		lb.RoundRobin != nil, lb.LeastRequest != nil, lb.RingHash != nil, lb.Random != nil, lb.Maglev != nil)
	if rh := lb.RingHash; rh != nil {
		switch rh.HashFunction {
		case "XX_HASH", "MURMUR_HASH_2":
		default:
			v.add(joinField(joinField(path, "ringHash"), "hashFunction"), "must have a valid hash function")
		}
	}
}

// Validate checks a VirtualOutbound with Kuma's rules (pkg/core/resources/apis/mesh/
// virtual_outbound_validator.go): the templates must evaluate, over placeholder tag values, to a
// DNS name and a port. meshgate also refuses `range` and `template` actions and huge printf
// widths in the templates, which could make evaluation run or grow without bound.
func (o *VirtualOutbound) Validate() ErrorList {
	var v validator
	v.meta(&o.Meta)
	v.selectors("selectors", o.Spec.Selectors, false, destinationRules)
	c := o.Spec.Conf
	if c == nil {
		v.add("conf", hasToBeDefinedViolation)
		return v.errs
	}
	v.virtualOutboundParameters("conf.parameters", c.Parameters)
	v.virtualOutboundTemplate("conf.host", c.Host, c.Parameters, "dummy", func(tags map[string]string) error {
		_, err := o.EvalHost(tags)
		return err
	})
	v.virtualOutboundTemplate("conf.port", c.Port, c.Parameters, "1", func(tags map[string]string) error {
		_, err := o.EvalPort(tags)
		return err
	})
	return v.errs
}

var templateParameterName = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

func (v *validator) virtualOutboundParameters(path string, params []VirtualOutboundParameter) {
	hasService := false
	names := map[string]bool{}
	for i, p := range params {
		pp := joinIndex(path, i)
		if names[p.Name] {
			v.add(joinField(pp, "name"), "name is already used")
		}
		names[p.Name] = true
		if p.TagKey != "" {
			hasService = hasService || p.TagKey == ServiceTag
			if !tagNameCharset.MatchString(p.TagKey) {
				v.add(joinField(pp, "tagKey"), "must be a valid tag name")
			}
		} else if !tagNameCharset.MatchString(p.Name) {
			v.add(joinField(pp, "name"), "must be a valid tag name if you are not setting tagKey")
		}
		if !templateParameterName.MatchString(p.Name) {
			v.add(joinField(pp, "name"), "must consist of alphanumeric characters to be used as a gotemplate key")
		}
	}
	if !hasService {
		v.addf(path, "must contain a parameter with %s as a tagKey", ServiceTag)
	}
}

func (v *validator) virtualOutboundTemplate(path, text string, params []VirtualOutboundParameter, placeholder string, eval func(map[string]string) error) {
	if text == "" {
		v.add(path, hasToBeDefinedViolation)
		return
	}
	tags := map[string]string{}
	for _, p := range params {
		tags[p.TagKeyOrName()] = placeholder
	}
	if err := eval(tags); err != nil {
		v.addf(path, "template pre evaluation failed with error='%s'", err.Error())
	}
}
