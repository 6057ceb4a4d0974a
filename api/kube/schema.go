// Package kube holds meshgate's Kubernetes manifests: the CustomResourceDefinitions of the kinds
// api/v1alpha1 registers, with OpenAPI schemas generated from the very Go types the decoder
// fills, and the manifests that run the control plane in a cluster.
package kube

import (
	"fmt"
	"reflect"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Schema is one node of an OpenAPI v3 (apiextensions.k8s.io/v1) schema. A map keeps the output
// free of empty keys and sorted when marshalled.
type Schema = map[string]any

// integerPattern and unsignedPattern are what the decoder accepts for an integer written as a
// string: protojson's one leniency (`port: "8080"`), which Kuma's own CRDs let through.
const (
	integerPattern  = `^-?[0-9]+$`
	unsignedPattern = `^[0-9]+$`
)

// SchemaFor generates the structural schema of a Go type as api/v1alpha1's decoder reads it:
//   - struct fields by json name; the decoder also accepts each field's snake_case spelling and
//     rejects any other key, so every object keeps unknown fields
//     (x-kubernetes-preserve-unknown-fields) instead of letting the API server prune the
//     snake_case ones, and the unknown ones are left to meshgate's validation, which names them
//     with their line;
//   - declared enums (EnumValues) with their accepted names;
//   - integers as int-or-string, since the decoder reads `"8080"` as 8080;
//   - floats (also accepted as strings, which no structural type allows) and free-form values
//     (`any`) as preserved unknown content;
//   - Quantity as Kubernetes' quantity schema;
//   - maps as additionalProperties, lists as items.
//
// No field is required: which fields must be set depends on other fields (Kuma's validators),
// so meshgate's validation decides, with messages that name the field and line.
func SchemaFor(t reflect.Type) Schema {
	return schemaFor(t, map[reflect.Type]bool{})
}

var quantityType = reflect.TypeFor[api.Quantity]()

func schemaFor(t reflect.Type, active map[reflect.Type]bool) Schema {
	if values, ok := api.EnumValues(t); ok {
		enum := make([]any, len(values))
		for i, v := range values {
			enum[i] = v
		}
		return Schema{"type": "string", "enum": enum}
	}
	if t == quantityType {
		return Schema{
			"anyOf":                      []any{Schema{"type": "integer"}, Schema{"type": "string"}},
			"pattern":                    api.QuantityPattern(),
			"x-kubernetes-int-or-string": true,
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaFor(t.Elem(), active)
	case reflect.Struct:
		if active[t] {
			// A recursive type cannot be expanded; its content is still checked by meshgate.
			return Schema{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
		}
		active[t] = true
		defer delete(active, t)
		props := Schema{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, ok := jsonName(f)
			if !ok {
				continue
			}
			props[name] = schemaFor(f.Type, active)
		}
		s := Schema{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
		if len(props) > 0 {
			s["properties"] = props
		}
		return s
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("kube.SchemaFor: map key %s is not a string", t.Key()))
		}
		if t.Elem().Kind() == reflect.Interface && t.Elem() != quantityType {
			return Schema{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
		}
		return Schema{"type": "object", "additionalProperties": schemaFor(t.Elem(), active)}
	case reflect.Slice, reflect.Array:
		return Schema{"type": "array", "items": schemaFor(t.Elem(), active)}
	case reflect.Interface:
		return Schema{"x-kubernetes-preserve-unknown-fields": true}
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intOrString(t, false)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return intOrString(t, true)
	case reflect.Float32, reflect.Float64:
		return Schema{"x-kubernetes-preserve-unknown-fields": true}
	}
	panic(fmt.Sprintf("kube.SchemaFor: unsupported type %s", t))
}

// intOrString bounds numbers to what the Go field holds; strings get the digits pattern.
func intOrString(t reflect.Type, unsigned bool) Schema {
	s := Schema{
		"anyOf":                      []any{Schema{"type": "integer"}, Schema{"type": "string"}},
		"pattern":                    integerPattern,
		"x-kubernetes-int-or-string": true,
	}
	bits := t.Bits()
	switch {
	case unsigned:
		s["pattern"] = unsignedPattern
		s["minimum"] = 0
		if bits < 64 {
			s["maximum"] = uint64(1)<<bits - 1
		}
	case bits < 64:
		s["minimum"] = -(int64(1) << (bits - 1))
		s["maximum"] = int64(1)<<(bits-1) - 1
	}
	return s
}

// jsonName is the key the decoder reads a field from (structInfoOf's rules).
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() || f.Anonymous {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return "", false
	case "":
		return f.Name, true
	}
	return name, true
}

// specType is the type of a resource's Spec field (Register guarantees there is one).
func specType(obj api.Object) reflect.Type {
	f, _ := reflect.TypeOf(obj).Elem().FieldByName("Spec")
	return f.Type
}
