package render_test

import (
	"reflect"
	"strings"
	"time"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/render"
)

// The golden cases record two stages: ir.yaml is what xds/build made of the resources, the
// other files what xds/translate made of that IR. A change that moves only the Envoy files is
// in translate; one that moves ir.yaml too is in build (or in the model under it).

var durationType = reflect.TypeOf(time.Duration(0))

// irSecretFields are IR fields holding private keys; ir.yaml redacts them as secrets.yaml does.
var irSecretFields = map[string]bool{"privateKey": true, "clientKey": true}

// irDocument is the IR as ir.yaml records it: the json field names of package ir, fields
// tagged omitempty left out when zero, durations as Go durations (`1m30s`, not nanoseconds),
// private keys redacted and generated certificates replaced by their placeholders.
func irDocument(p *ir.Proxy, gen *generatedCerts) any {
	return gen.scrub(irValue(reflect.ValueOf(*p)))
}

func irValue(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return irValue(v.Elem())
	case reflect.Struct:
		return irStruct(v)
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = irValue(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out[iter.Key().String()] = irValue(iter.Value())
		}
		return out
	default:
		return v.Interface()
	}
}

func irStruct(v reflect.Value) map[string]any {
	out := map[string]any{}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if opts == "omitempty" && isEmpty(fv) {
			continue
		}
		if irSecretFields[name] && fv.Kind() == reflect.String {
			out[name] = render.Redacted
			continue
		}
		out[name] = irValue(fv)
	}
	return out
}

// isEmpty is encoding/json's omitempty test, plus zero structs (json keeps those).
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	default:
		return v.IsZero()
	}
}
