package v1alpha1

import (
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoded is one document's resource, or the errors that kept it from being one.
type decoded struct {
	obj  Object
	errs ErrorList
}

func decodeDocument(file string, doc *yaml.Node, budget *aliasBudget) []decoded {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		root = doc.Content[0]
	}
	return decodeResource(file, root, budget)
}

// decodeResource decodes one resource mapping in either form: Kubernetes objects are told apart
// by `apiVersion`/`kind`, which the universal form never has.
func decodeResource(file string, root *yaml.Node, budget *aliasBudget) []decoded {
	d := &docDecoder{w: newWalker(file, map[string]int{}, budget), file: file}
	if root != nil && root.Kind == yaml.AliasNode {
		// A List item may be an alias: charge its expansion like any other.
		d.w.aliasDepth = 1
	}
	if root = d.w.deref(root, ""); root == nil {
		return []decoded{{errs: d.w.errs}}
	}
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		d.w.errorf(root, "", "a resource must be a mapping (with `type` and `name`, or `apiVersion`, `kind` and `metadata`)")
		return []decoded{{errs: d.w.errs}}
	}
	d.line = root.Line
	if len(root.Content) > 0 {
		d.line = root.Content[0].Line
	}
	d.top = d.index(d.w.pairs(root, ""))
	if _, ok := d.top["apiVersion"]; ok {
		return d.kubernetes(budget)
	}
	if _, ok := d.top["kind"]; ok {
		return d.kubernetes(budget)
	}
	return []decoded{d.universal()}
}

// docDecoder holds one document's state while its header is read and its body decoded.
type docDecoder struct {
	w    *walker
	file string
	line int
	top  map[string]pair
	// order keeps top-level keys in document order so that body errors come out in order.
	order []string
	obj   Object
	kube  bool
}

func (d *docDecoder) index(pairs []pair) map[string]pair {
	m := map[string]pair{}
	for _, p := range pairs {
		k, ok := d.w.key(p.key, "")
		if !ok {
			continue
		}
		if _, dup := m[k]; dup {
			d.w.errorf(p.key, "", "duplicate field %q", k)
			continue
		}
		m[k] = p
		d.order = append(d.order, k)
	}
	return m
}

// errorAt reports an error on the document line, for things that are missing altogether.
func (d *docDecoder) errorAt(field, msg string) {
	d.w.errs = append(d.w.errs, FieldError{File: d.file, Line: d.line, Field: field, Message: msg})
}

// headerString decodes a top-level string without recording it as a spec field.
func (d *docDecoder) headerString(p pair, path string) string {
	var s string
	d.decodeHeader(p, &s, path)
	return s
}

// decodeHeader decodes a value outside the spec into target (a pointer). Its field lines go to
// the returned scratch map rather than Source.Fields, which holds spec paths only.
func (d *docDecoder) decodeHeader(p pair, target any, path string) map[string]int {
	fields := d.w.fields
	scratch := map[string]int{}
	d.w.fields = scratch
	defer func() { d.w.fields = fields }()
	d.w.decodePair(p, reflect.ValueOf(target).Elem(), path)
	return scratch
}

func (d *docDecoder) headerTime(p pair, path string) time.Time {
	return d.parseTime(d.headerString(p, path), p.value.Line, path)
}

func (d *docDecoder) parseTime(s string, line int, path string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	d.w.errs = append(d.w.errs, FieldError{File: d.file, Line: line, Field: path, Message: "must be a timestamp in RFC 3339 format"})
	return time.Time{}
}

// start creates the resource and fills what every form shares.
func (d *docDecoder) start(info KindInfo) *Meta {
	d.obj = info.New()
	m := d.obj.GetMeta()
	m.Kind = info.Kind
	m.Source = Source{File: d.file, Line: d.line, Fields: d.w.fields}
	return m
}

// finish names the resource in its decode errors and checks what the decoder alone can.
func (d *docDecoder) finish(info KindInfo) decoded {
	m := d.obj.GetMeta()
	if m.Name == "" && !d.hasError(d.nameField()) {
		line := d.line
		if l, ok := d.w.fields["name"]; ok {
			line = l
		}
		d.w.errs = append(d.w.errs, FieldError{File: d.file, Line: line, Field: d.nameField(), Message: "cannot be empty"})
	}
	if !info.Global && m.Mesh == "" {
		m.Mesh = DefaultMesh
	}
	if len(d.w.errs) == 0 {
		return decoded{obj: d.obj}
	}
	if m.Name != "" {
		for i := range d.w.errs {
			d.w.errs[i].Resource = m.DisplayName()
		}
	}
	return decoded{errs: d.w.errs}
}

func (d *docDecoder) hasError(field string) bool {
	for _, e := range d.w.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (d *docDecoder) nameField() string {
	if d.kube {
		return "metadata.name"
	}
	return "name"
}

func (d *docDecoder) unknownKind(p pair, field, value string) decoded {
	names := make([]string, 0)
	known := Kinds()
	if d.kube {
		known = AllKinds()
	}
	for _, k := range known {
		names = append(names, string(k))
	}
	d.w.errorf(p.value, field, "unknown %s %q (known: %s)", field, value, strings.Join(names, ", "))
	return decoded{errs: d.w.errs}
}

// requiredString reads a top-level string that must be present, reporting it if not.
func (d *docDecoder) requiredString(key string) (string, bool) {
	p, ok := d.top[key]
	if !ok {
		d.errorAt(key, "cannot be empty")
		return "", false
	}
	n := len(d.w.errs)
	s := d.headerString(p, key)
	if s == "" && len(d.w.errs) == n {
		d.w.errorf(p.value, key, "cannot be empty")
	}
	return s, s != ""
}
