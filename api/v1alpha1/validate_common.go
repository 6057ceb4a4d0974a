package v1alpha1

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// validator accumulates violations the way Kuma's validators do: every rule runs, and each
// failure is one (field path, message) pair. Locate adds the file, line and resource later.
type validator struct{ errs ErrorList }

func (v *validator) add(path, msg string) {
	v.errs = append(v.errs, FieldError{Field: path, Message: msg})
}

func (v *validator) addf(path, format string, args ...any) {
	v.add(path, fmt.Sprintf(format, args...))
}

// The character sets and the DNS name pattern are Kuma's (pkg/core/resources/apis/mesh/validators.go).
var (
	tagNameCharset       = regexp.MustCompile(`^[a-zA-Z0-9.\-_:/]*$`)
	tagValueCharset      = regexp.MustCompile(`^[a-zA-Z0-9.\-_:]*$`)
	selectorValueCharset = regexp.MustCompile(`^([a-zA-Z0-9.\-_:/]*|\*)$`)
	dnsLabels            = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

type tagRules struct {
	atLeastOne     bool
	requireService bool
	// selector allows `/` and `*` in values, as Kuma's selectors and destinations do; plain
	// tags (Dataplane tags) allow neither.
	selector      bool
	forbiddenKeys []string
	// check runs on the whole map before the per-key rules, like Kuma's ExtraTagsValidators.
	check func(v *validator, path string, tags map[string]string)
}

func (v *validator) tags(path string, tags map[string]string, r tagRules) {
	if r.atLeastOne && len(tags) == 0 {
		v.add(path, "must have at least one tag")
	}
	if r.check != nil {
		r.check(v, path, tags)
	}
	for _, key := range sortedKeys(tags) {
		value := tags[key]
		if key == "" {
			v.add(path, "tag name must be non-empty")
		}
		if !tagNameCharset.MatchString(key) {
			v.add(joinKey(path, key), "tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores")
		}
		if slices.Contains(r.forbiddenKeys, key) {
			v.addf(joinKey(path, key), "tag name must not be %q", key)
		}
		if value == "" {
			v.add(joinKey(path, key), "tag value must be non-empty")
		}
		switch {
		case r.selector && !selectorValueCharset.MatchString(value):
			v.add(joinKey(path, key), `tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be "*"`)
		case !r.selector && !tagValueCharset.MatchString(value):
			v.add(joinKey(path, key), "tag value must consist of alphanumeric characters, dots, dashes and underscores")
		}
	}
	if _, ok := tags[ServiceTag]; r.requireService && !ok {
		v.addf(path, "mandatory tag %q is missing", ServiceTag)
	}
}

// selectors applies Kuma's ValidateSelectors with at least one selector required.
func (v *validator) selectors(path string, sels []Selector, atMostOne bool, r tagRules) {
	if len(sels) == 0 {
		v.add(path, "must have at least one element")
	}
	for i, s := range sels {
		v.tags(joinField(joinIndex(path, i), "match"), s.Match, r)
		if i > 0 && atMostOne {
			v.add(joinIndex(path, i), "there can be at most one selector")
		}
	}
}

// selectorRules are those of a selector that must name a service (MeshGateway and
// MeshGatewayRoute selectors, route backends).
var selectorRules = tagRules{atLeastOne: true, requireService: true, selector: true}

func (v *validator) port(path string, p uint32) {
	if p == 0 || p > 65535 {
		v.add(path, "port must be in the range [1, 65535]")
	}
}

// hostname applies Kuma's ValidateHostname: `*`, `*.domain` or a lowercase DNS name.
func (v *validator) hostname(path, h string) {
	if h == "*" {
		return
	}
	if len(h) > 253 {
		v.add(path, "must be at most 253 characters")
	}
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		if !dnsLabels.MatchString(rest) {
			v.add(path, "invalid wildcard domain")
		}
		return
	}
	if !dnsLabels.MatchString(h) {
		v.add(path, "invalid hostname")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
