package v1alpha1

import (
	"encoding/json"
	"fmt"
)

// Encode renders a resource in Kuma's universal form as JSON: `type`, `mesh` (not for Mesh),
// `name`, `labels` when set, then the spec fields. Decode reads it back to an equal object; the
// store and the HTTP API keep resources in this form.
func Encode(obj Object) ([]byte, error) {
	meta := obj.GetMeta()
	spec, ok := specOf(obj)
	if !ok {
		return nil, fmt.Errorf("encode %s: no spec", meta.DisplayName())
	}
	raw, err := json.Marshal(spec.Interface())
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", meta.DisplayName(), err)
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("encode %s: %w", meta.DisplayName(), err)
	}
	set := func(k string, v any) error {
		b, err := json.Marshal(v)
		fields[k] = b
		return err
	}
	if err := set("type", meta.Kind); err != nil {
		return nil, err
	}
	if err := set("name", meta.Name); err != nil {
		return nil, err
	}
	if info, ok := LookupKind(meta.Kind); !ok || !info.Global {
		if err := set("mesh", meta.Mesh); err != nil {
			return nil, err
		}
	}
	if len(meta.Labels) > 0 {
		if err := set("labels", meta.Labels); err != nil {
			return nil, err
		}
	}
	return json.Marshal(fields)
}
