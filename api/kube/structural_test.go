package kube

import (
	"fmt"
	"math"
	"regexp"
	"sort"
)

// This file holds a minimal checker of apiextensions.k8s.io/v1 structural schemas and a
// validator of objects against them: the rules the API server applies that our generated
// schemas rely on, so tests catch a schema the server would refuse or a manifest it would.

var schemaKeywords = map[string]bool{
	"type": true, "properties": true, "items": true, "additionalProperties": true, "enum": true,
	"pattern": true, "minimum": true, "maximum": true, "anyOf": true, "description": true,
	"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true,
}

var schemaTypes = map[string]bool{"object": true, "array": true, "string": true, "integer": true, "number": true, "boolean": true}

// checkStructural returns every violation of the structural rules under path.
func checkStructural(path string, node any) []string {
	s, ok := node.(map[string]any)
	if !ok {
		return []string{path + ": schema must be a mapping"}
	}
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	for _, k := range sortedKeys(s) {
		if !schemaKeywords[k] {
			add("unknown keyword %q", k)
		}
	}
	typ, _ := s["type"].(string)
	intOrString := s["x-kubernetes-int-or-string"] == true
	preserve := s["x-kubernetes-preserve-unknown-fields"] == true
	switch {
	case intOrString && typ != "":
		add("x-kubernetes-int-or-string must not have a type")
	case typ == "" && !intOrString && !preserve:
		add("type is required (structural schema)")
	case typ != "" && !schemaTypes[typ]:
		add("unknown type %q", typ)
	}
	if anyOf, ok := s["anyOf"]; ok {
		// The only anyOf a structural schema may carry types in is int-or-string's.
		items, _ := anyOf.([]any)
		want := []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
		if !intOrString || fmt.Sprint(items) != fmt.Sprint(want) {
			add("anyOf is allowed only as int-or-string's [{type: integer}, {type: string}]")
		}
	}
	if intOrString && s["anyOf"] == nil {
		add("x-kubernetes-int-or-string needs anyOf [{type: integer}, {type: string}]")
	}
	if p, ok := s["pattern"].(string); ok {
		if _, err := regexp.Compile(p); err != nil {
			add("pattern does not compile: %v", err)
		}
	}
	props, hasProps := s["properties"]
	addl, hasAddl := s["additionalProperties"]
	if (hasProps || hasAddl) && typ != "object" {
		add("properties need type object")
	}
	if hasProps && hasAddl {
		add("properties and additionalProperties are mutually exclusive")
	}
	if hasProps {
		pm, ok := props.(map[string]any)
		if !ok {
			add("properties must be a mapping")
		}
		for _, k := range sortedKeys(pm) {
			errs = append(errs, checkStructural(path+".properties."+k, pm[k])...)
		}
	}
	if hasAddl {
		errs = append(errs, checkStructural(path+".additionalProperties", addl)...)
	}
	items, hasItems := s["items"]
	switch {
	case typ == "array" && !hasItems:
		add("arrays need items")
	case hasItems && typ != "array":
		add("items need type array")
	case hasItems:
		errs = append(errs, checkStructural(path+".items", items)...)
	}
	if enum, ok := s["enum"].([]any); ok {
		for _, v := range enum {
			if typ == "string" {
				if _, ok := v.(string); !ok {
					add("enum value %v is not a string", v)
				}
			}
		}
	}
	return errs
}

// validateValue checks a decoded YAML value against a schema the way the API server does for
// the keywords checkStructural allows. Unknown fields are errors unless the object preserves them.
func validateValue(path string, schema map[string]any, v any) []string {
	if v == nil {
		return nil // the API server prunes nulls of non-nullable fields before validation
	}
	fail := func(format string, args ...any) []string { return []string{path + ": " + fmt.Sprintf(format, args...)} }
	if schema["x-kubernetes-int-or-string"] == true {
		switch x := v.(type) {
		case int:
			return checkRange(path, schema, float64(x))
		case uint64:
			return checkRange(path, schema, float64(x))
		case string:
			if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
				return fail("%q does not match %s", x, p)
			}
			return nil
		}
		return fail("must be an integer or a string, got %T", v)
	}
	typ, _ := schema["type"].(string)
	switch typ {
	case "":
		return nil // preserved unknown content
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fail("must be an object, got %T", v)
		}
		props, _ := schema["properties"].(map[string]any)
		addl, _ := schema["additionalProperties"].(map[string]any)
		var errs []string
		for _, k := range sortedKeys(m) {
			switch {
			case props[k] != nil:
				errs = append(errs, validateValue(path+"."+k, props[k].(map[string]any), m[k])...)
			case addl != nil:
				errs = append(errs, validateValue(path+"["+k+"]", addl, m[k])...)
			case schema["x-kubernetes-preserve-unknown-fields"] == true:
			case props == nil && addl == nil && path != "":
				// `type: object` alone (metadata) accepts anything, as the API server does.
			default:
				errs = append(errs, path+": unknown field "+k)
			}
		}
		return errs
	case "array":
		l, ok := v.([]any)
		if !ok {
			return fail("must be a list, got %T", v)
		}
		var errs []string
		for i, item := range l {
			errs = append(errs, validateValue(fmt.Sprintf("%s[%d]", path, i), schema["items"].(map[string]any), item)...)
		}
		return errs
	case "string":
		s, ok := v.(string)
		if !ok {
			return fail("must be a string, got %T", v)
		}
		if enum, ok := schema["enum"].([]any); ok && !containsValue(enum, s) {
			return fail("%q is not one of %v", s, enum)
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			return fail("%q does not match %s", s, p)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fail("must be a boolean, got %T", v)
		}
	case "integer":
		if _, ok := v.(int); !ok {
			return fail("must be an integer, got %T", v)
		}
	}
	return nil
}

func checkRange(path string, schema map[string]any, f float64) []string {
	if min, ok := number(schema["minimum"]); ok && f < min {
		return []string{fmt.Sprintf("%s: %v is below the minimum %v", path, f, min)}
	}
	if max, ok := number(schema["maximum"]); ok && f > max {
		return []string{fmt.Sprintf("%s: %v is above the maximum %v", path, f, max)}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return math.NaN(), false
}

func containsValue(enum []any, s string) bool {
	for _, e := range enum {
		if e == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
