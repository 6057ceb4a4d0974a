package v1alpha1

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

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
