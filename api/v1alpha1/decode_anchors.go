package v1alpha1

import "gopkg.in/yaml.v3"

// aliasBudget bounds, per file, the nodes decoded through aliases, so that a small input cannot
// expand into an enormous one (the "billion laughs" shape).
type aliasBudget struct{ left int }

const aliasNodeLimit = 100_000

func newAliasBudget() *aliasBudget { return &aliasBudget{left: aliasNodeLimit} }

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
