package v1alpha1

import (
	"fmt"
	"reflect"

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
	w.decodeValue(n, v, path)
}

// decodeValue fills v from a node that has already been entered.
func (w *walker) decodeValue(n *yaml.Node, v reflect.Value, path string) {
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
		w.decodeValue(n, elem.Elem(), path)
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

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
