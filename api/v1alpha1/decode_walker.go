package v1alpha1

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// walker decodes a yaml.Node tree into the API structs through their json tags. It exists
// instead of yaml.Unmarshal because every error must carry a field path and a line, unknown
// fields must be rejected, both camelCase and snake_case keys must be accepted (as protojson
// does), and the line of every field must be recorded for later validation errors.
type walker struct {
	file string
	// fields receives `path → line` for each field visited; nil records nothing.
	fields map[string]int
	errs   ErrorList
	// aliasDepth > 0 while decoding nodes reached through an alias (or a merge key). Only those
	// are charged to the file's budget: everything else is visited once, bounded by input size.
	aliasDepth int
	budget     *aliasBudget
	reported   bool
	// active holds the anchored nodes being decoded, to reject aliases that contain themselves.
	active map[*yaml.Node]bool
}

// aliasBudget bounds, per file, the nodes decoded through aliases, so that a small input cannot
// expand into an enormous one (the "billion laughs" shape).
type aliasBudget struct{ left int }

const aliasNodeLimit = 100_000

func newAliasBudget() *aliasBudget { return &aliasBudget{left: aliasNodeLimit} }

type pair struct {
	key, value *yaml.Node
	// merged pairs come from a `<<` merge key, i.e. from an aliased or repeated mapping.
	merged bool
}

func newWalker(file string, fields map[string]int, budget *aliasBudget) *walker {
	return &walker{file: file, fields: fields, budget: budget, active: map[*yaml.Node]bool{}}
}

func (w *walker) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	w.errs = append(w.errs, FieldError{File: w.file, Line: line, Field: path, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) record(path string, line int) {
	if w.fields == nil {
		return
	}
	if _, ok := w.fields[path]; !ok {
		w.fields[path] = line
	}
}

// deref follows an alias to its anchored node; nil if the alias is dangling.
func (w *walker) deref(n *yaml.Node, path string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i > 100 {
			w.errorf(n, path, "unknown anchor %q", n.Value)
			return nil
		}
		n = n.Alias
	}
	return n
}

// charge counts a node against the file's alias budget when it was reached through an alias.
func (w *walker) charge(n *yaml.Node, path string) bool {
	if w.aliasDepth == 0 {
		return true
	}
	w.budget.left--
	if w.budget.left >= 0 {
		return true
	}
	if !w.reported {
		w.reported = true
		w.errorf(n, path, "aliases expand to too many nodes (more than %d in this file)", aliasNodeLimit)
	}
	return false
}

// enter starts decoding n, refusing an anchored node already being decoded: an alias inside its
// own anchor's value would otherwise recurse forever.
func (w *walker) enter(n *yaml.Node, path string) (leave func(), ok bool) {
	if !w.charge(n, path) {
		return nil, false
	}
	if n.Anchor == "" {
		return func() {}, true
	}
	if w.active[n] {
		w.errorf(n, path, "anchor %q is used inside its own value", n.Anchor)
		return nil, false
	}
	w.active[n] = true
	return func() { delete(w.active, n) }, true
}

// decode fills v (addressable) from n.
func (w *walker) decode(n *yaml.Node, v reflect.Value, path string) {
	if n != nil && n.Kind == yaml.AliasNode {
		if n = w.deref(n, path); n == nil {
			return
		}
		w.aliasDepth++
		defer func() { w.aliasDepth-- }()
	}
	if n == nil {
		return
	}
	leave, ok := w.enter(n, path)
	if !ok {
		return
	}
	defer leave()

	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if spec, ok := enums[v.Type()]; ok {
		w.decodeEnum(n, v, path, spec)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		w.decode(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.errorf(n, path, "must be a mapping")
			return
		}
		w.decodeFields(w.pairs(n, path), v, path)
	case reflect.Map:
		w.decodeMap(n, v, path)
	case reflect.Slice:
		w.decodeSlice(n, v, path)
	case reflect.Interface:
		if val := w.anyValue(n, path); val != nil {
			v.Set(reflect.ValueOf(val))
		}
	default:
		w.decodeScalar(n, v, path)
	}
}

// decodeFields decodes mapping pairs into the struct v. It takes pairs rather than a node so the
// universal form can hand over a top-level mapping without its `type`/`name`/`mesh` keys.
func (w *walker) decodeFields(pairs []pair, v reflect.Value, path string) {
	info := structInfoOf(v.Type())
	seen := map[int]bool{}
	for _, p := range pairs {
		name, ok := w.key(p.key, path)
		if !ok {
			continue
		}
		f, ok := info[name]
		if !ok {
			w.errorf(p.key, path, "unknown field %q", name)
			continue
		}
		if seen[f.index] {
			w.errorf(p.key, path, "duplicate field %q", f.name)
			continue
		}
		seen[f.index] = true
		child := joinField(path, f.name)
		w.record(child, p.key.Line)
		w.decodePair(p, v.Field(f.index), child)
	}
}

func (w *walker) decodePair(p pair, v reflect.Value, path string) {
	if p.merged {
		w.aliasDepth++
		defer func() { w.aliasDepth-- }()
	}
	w.decode(p.value, v, path)
}

func (w *walker) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if n.Kind != yaml.MappingNode {
		w.errorf(n, path, "must be a mapping")
		return
	}
	if t.Key().Kind() != reflect.String {
		w.errorf(n, path, "unsupported map key type %s", t.Key())
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := map[string]bool{}
	for _, p := range w.pairs(n, path) {
		key, ok := w.key(p.key, path)
		if !ok {
			continue
		}
		if seen[key] {
			w.errorf(p.key, path, "duplicate key %q", key)
			continue
		}
		seen[key] = true
		child := joinKey(path, key)
		if t.Elem().Kind() == reflect.Interface {
			child = anyChild(path, key)
		}
		w.record(child, p.key.Line)
		elem := reflect.New(t.Elem()).Elem()
		w.decodePair(p, elem, child)
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	}
	v.Set(m)
}

func (w *walker) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		w.errorf(n, path, "must be a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		child := joinIndex(path, i)
		w.record(child, c.Line)
		w.decode(c, s.Index(i), child)
	}
	v.Set(s)
}

func (w *walker) decodeEnum(n *yaml.Node, v reflect.Value, path string, spec *enumSpec) {
	if n.Kind != yaml.ScalarNode {
		w.errorf(n, path, "must be one of %s", spec.allowed())
		return
	}
	val, ok := spec.values[n.Value]
	if !ok {
		w.errorf(n, path, "invalid value %q: must be one of %s", n.Value, spec.allowed())
		return
	}
	v.SetString(val)
}

// toAny converts free-form YAML (fields typed map[string]any) into JSON-compatible values, so
// that later consumers can marshal them as JSON.
func (w *walker) toAny(n *yaml.Node, path string) any {
	if n != nil && n.Kind == yaml.AliasNode {
		if n = w.deref(n, path); n == nil {
			return nil
		}
		w.aliasDepth++
		defer func() { w.aliasDepth-- }()
	}
	if n == nil {
		return nil
	}
	leave, ok := w.enter(n, path)
	if !ok {
		return nil
	}
	defer leave()
	return w.anyValue(n, path)
}

// anyValue converts a node that has already been entered.
func (w *walker) anyValue(n *yaml.Node, path string) any {
	switch n.Kind {
	case yaml.ScalarNode:
		return w.scalarAny(n, path)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			child := joinIndex(path, i)
			w.record(child, c.Line)
			out = append(out, w.toAny(c, child))
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for _, p := range w.pairs(n, path) {
			key, ok := w.key(p.key, path)
			if !ok {
				continue
			}
			if _, dup := out[key]; dup {
				w.errorf(p.key, path, "duplicate key %q", key)
				continue
			}
			child := anyChild(path, key)
			w.record(child, p.key.Line)
			if p.merged {
				w.aliasDepth++
			}
			out[key] = w.toAny(p.value, child)
			if p.merged {
				w.aliasDepth--
			}
		}
		return out
	default:
		w.errorf(n, path, "unsupported YAML node")
		return nil
	}
}

var identifierKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// anyChild names a key of a free-form map: such maps mostly stand for proto messages Kuma has
// and meshgate does not model (`logging.backends[0].name`), so plain keys read as fields.
func anyChild(path, key string) string {
	if identifierKey.MatchString(key) {
		return joinField(path, key)
	}
	return joinKey(path, key)
}

// pairs lists a mapping's key/value pairs with YAML merge keys (`<<: *base`) expanded; keys
// written explicitly win over merged ones, and earlier merged mappings over later ones.
func (w *walker) pairs(n *yaml.Node, path string) []pair {
	if !w.charge(n, path) {
		return nil
	}
	var explicit, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged = append(merged, w.mergePairs(val, path, true)...)
			continue
		}
		explicit = append(explicit, pair{key: k, value: val})
	}
	if len(merged) == 0 {
		return explicit
	}
	have := map[string]bool{}
	for _, p := range explicit {
		if k := w.deref(p.key, path); k != nil && k.Kind == yaml.ScalarNode {
			have[k.Value] = true
		}
	}
	for _, p := range merged {
		p.merged = true
		if k := w.deref(p.key, path); k != nil && k.Kind == yaml.ScalarNode {
			if have[k.Value] {
				continue
			}
			have[k.Value] = true
		}
		explicit = append(explicit, p)
	}
	return explicit
}

func (w *walker) mergePairs(val *yaml.Node, path string, listOK bool) []pair {
	orig := val
	if val = w.deref(val, path); val == nil {
		return nil
	}
	w.aliasDepth++
	defer func() { w.aliasDepth-- }()
	leave, ok := w.enter(val, path)
	if !ok {
		return nil
	}
	defer leave()
	switch {
	case val.Kind == yaml.MappingNode:
		return w.pairs(val, path)
	case val.Kind == yaml.SequenceNode && listOK:
		var out []pair
		for _, e := range val.Content {
			out = append(out, w.mergePairs(e, path, false)...)
		}
		return out
	default:
		w.errorf(orig, path, "a merge key (<<) needs a mapping or a list of mappings")
		return nil
	}
}

// key returns a mapping key as a string; JSON and protojson only know string keys, so a YAML
// key that is a mapping or a list cannot name anything.
func (w *walker) key(k *yaml.Node, path string) (string, bool) {
	orig := k
	if k = w.deref(k, path); k == nil {
		return "", false
	}
	if k.Kind != yaml.ScalarNode {
		w.errorf(orig, path, "mapping keys must be strings")
		return "", false
	}
	return k.Value, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

type fieldInfo struct {
	index int
	name  string
}

var structInfos sync.Map // reflect.Type → map[string]fieldInfo

// structInfoOf maps each accepted key of a struct (json name and its snake_case form) to its field.
func structInfoOf(t reflect.Type) map[string]fieldInfo {
	if m, ok := structInfos.Load(t); ok {
		return m.(map[string]fieldInfo)
	}
	m := map[string]fieldInfo{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fi := fieldInfo{index: i, name: name}
		m[name] = fi
		if s := snakeCase(name); s != name {
			m[s] = fi
		}
	}
	structInfos.Store(t, m)
	return m
}

// snakeCase turns a json name back into its proto field name (`replacePrefixMatch` →
// `replace_prefix_match`), the other spelling protojson accepts.
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r - 'A' + 'a')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
