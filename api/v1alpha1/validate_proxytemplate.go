package v1alpha1

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Validate checks a ProxyTemplate with Kuma's rules (pkg/core/resources/apis/mesh/
// proxytemplate_validator.go): known profiles, complete raw resources, and per modification type
// its operations, the match each operation needs and a value for those that add or patch. Kuma
// also decodes every value as its Envoy type; here a value only has to be a YAML mapping, and the
// translator checks it against Envoy's protos. meshgate adds that a modification sets exactly
// one type (Kuma ignores an empty one).
func (t *ProxyTemplate) Validate() ErrorList {
	var v validator
	v.meta(&t.Meta)
	// Kuma requires no selector, but each one names a service.
	for i, s := range t.Spec.Selectors {
		v.tags(joinField(joinIndex("selectors", i), "match"), s.Match, selectorRules)
	}
	c := t.Spec.Conf
	if c == nil {
		return v.errs
	}
	for i, imp := range c.Imports {
		p := joinIndex("conf.imports", i)
		switch {
		case imp == "":
			v.add(p, "cannot be empty")
		case !slices.Contains(ProxyTemplateProfiles, imp):
			v.add(p, "profile not found. Available profiles: "+strings.Join(ProxyTemplateProfiles, ","))
		}
	}
	for i, r := range c.Resources {
		p := joinIndex("conf.resources", i)
		if r.Name == "" {
			v.add(joinField(p, "name"), "cannot be empty")
		}
		if r.Version == "" {
			v.add(joinField(p, "version"), "cannot be empty")
		}
		v.envoyValue(joinField(p, "resource"), r.Resource)
	}
	for i, m := range c.Modifications {
		v.proxyTemplateModification(joinIndex("conf.modifications", i), m)
	}
	return v.errs
}

var modificationTypes = []string{"cluster", "listener", "networkFilter", "httpFilter", "virtualHost"}

func (v *validator) proxyTemplateModification(path string, m ProxyTemplateModification) {
	if v.oneOf(path, modificationTypes, m.Cluster != nil, m.Listener != nil, m.NetworkFilter != nil,
		m.HTTPFilter != nil, m.VirtualHost != nil) == 0 {
		v.addf(path, "must have one of %s", quotedList(modificationTypes))
	}
	if c := m.Cluster; c != nil {
		v.resourceModification(joinField(path, "cluster"), c.Operation, c.Value, c.Match != nil, "")
	}
	if l := m.Listener; l != nil {
		v.resourceModification(joinField(path, "listener"), l.Operation, l.Value, l.Match != nil, "")
	}
	if h := m.VirtualHost; h != nil {
		// An added virtual host may say where it goes, but is not itself matched by name.
		name := ""
		if h.Match != nil {
			name = h.Match.Name
		}
		v.resourceModification(joinField(path, "virtualHost"), h.Operation, h.Value, false, name)
	}
	if f := m.NetworkFilter; f != nil {
		name := ""
		if f.Match != nil {
			name = f.Match.Name
		}
		v.filterModification(joinField(path, "networkFilter"), f.Operation, f.Value, name)
	}
	if f := m.HTTPFilter; f != nil {
		name := ""
		if f.Match != nil {
			name = f.Match.Name
		}
		v.filterModification(joinField(path, "httpFilter"), f.Operation, f.Value, name)
	}
}

// resourceModification checks a cluster, listener or virtual host modification. For OpAdd,
// matchSet reports a match that must not be there and matchName a match.name that must not be.
func (v *validator) resourceModification(path string, op ModificationOperation, value string, matchSet bool, matchName string) {
	switch op {
	case OpAdd:
		if matchSet {
			v.add(joinField(path, "match"), "cannot be defined")
		}
		if matchName != "" {
			v.add(joinField(path, "match.name"), "cannot be defined")
		}
		v.envoyValue(joinField(path, "value"), value)
	case OpPatch:
		v.envoyValue(joinField(path, "value"), value)
	case OpRemove:
	default:
		v.addf(joinField(path, "operation"), "invalid operation. Available operations: %q, %q, %q", OpAdd, OpPatch, OpRemove)
	}
}

// filterModification checks a network or HTTP filter modification.
func (v *validator) filterModification(path string, op ModificationOperation, value, matchName string) {
	name := joinField(path, "match.name")
	switch op {
	case OpAddFirst, OpAddLast:
		v.envoyValue(joinField(path, "value"), value)
	case OpAddBefore:
		if matchName == "" {
			v.add(name, "cannot be empty. You need to pick a filter before which this one will be added")
		}
		v.envoyValue(joinField(path, "value"), value)
	case OpAddAfter:
		if matchName == "" {
			v.add(name, "cannot be empty. You need to pick a filter after which this one will be added")
		}
		v.envoyValue(joinField(path, "value"), value)
	case OpPatch:
		if matchName == "" {
			v.add(name, "cannot be empty")
		}
		v.envoyValue(joinField(path, "value"), value)
	case OpRemove:
	default:
		v.addf(joinField(path, "operation"), "invalid operation. Available operations: %q, %q, %q, %q, %q, %q",
			OpAddFirst, OpAddLast, OpAddBefore, OpAddAfter, OpPatch, OpRemove)
	}
}

// envoyValue checks that an Envoy resource written as a string is a YAML (or JSON) mapping.
// Its fields are checked against Envoy's protos when it is translated.
func (v *validator) envoyValue(path, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(path, "cannot be empty")
		return
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(value), &n); err != nil {
		v.add(path, "native Envoy resource is not valid: "+strings.TrimPrefix(err.Error(), "yaml: "))
		return
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		v.add(path, "native Envoy resource is not valid: must be a YAML or JSON mapping")
	}
}
