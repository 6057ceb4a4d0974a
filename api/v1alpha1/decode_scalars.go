package v1alpha1

import (
	"math"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"
)

// decodeScalar fills string, bool and numeric fields. Types are strict, as in protojson: a
// number is not a string and `yes` is not a boolean; protojson's one leniency, numbers written
// as strings (`port: "8080"`), is kept because JSON documents produced by other tools use it.
func (w *walker) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode {
		tag = ""
	}
	switch v.Kind() {
	case reflect.String:
		switch tag {
		case "!!str", "!!timestamp", "!!binary":
			v.SetString(n.Value)
		default:
			w.errorf(n, path, "must be a string")
		}
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || n.Decode(&b) != nil {
			w.errorf(n, path, "must be a boolean")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, u, big, ok := scalarInteger(n, tag)
		switch {
		case !ok:
			w.errorf(n, path, "must be an integer")
		case big || u > math.MaxInt64 || v.OverflowInt(i):
			bits := v.Type().Bits()
			w.errorf(n, path, "must be an integer in the range [%d, %d]", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
		default:
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, u, big, ok := scalarInteger(n, tag)
		switch {
		case !ok:
			w.errorf(n, path, "must be an integer")
		case big || i < 0 || v.OverflowUint(u):
			w.errorf(n, path, "must be an integer in the range [0, %d]", uint64(math.MaxUint64)>>(64-v.Type().Bits()))
		default:
			v.SetUint(u)
		}
	case reflect.Float32, reflect.Float64:
		f, ok := scalarFloat(n, tag)
		if !ok {
			w.errorf(n, path, "must be a number")
			return
		}
		v.SetFloat(f)
	default:
		w.errorf(n, path, "unsupported field type %s", v.Type())
	}
}

// scalarInteger reads an integer. For non-negative values u holds the value and i too when it
// fits; big reports an integer beyond 64 bits.
func scalarInteger(n *yaml.Node, tag string) (i int64, u uint64, big, ok bool) {
	switch tag {
	case "!!int":
		if n.Decode(&i) == nil {
			if i >= 0 {
				u = uint64(i)
			}
			return i, u, false, true
		}
		if n.Decode(&u) == nil {
			return 0, u, false, true
		}
		return 0, 0, true, true
	case "!!str":
		if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			if x >= 0 {
				u = uint64(x)
			}
			return x, u, false, true
		}
		if x, err := strconv.ParseUint(n.Value, 10, 64); err == nil {
			return 0, x, false, true
		}
		if isDigits(n.Value) {
			return 0, 0, true, true
		}
	case "!!float":
		// YAML resolves integers too large for 64 bits as floats.
		if isDigits(n.Value) {
			return 0, 0, true, true
		}
	}
	return 0, 0, false, false
}

func isDigits(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func scalarFloat(n *yaml.Node, tag string) (float64, bool) {
	var f float64
	switch tag {
	case "!!int", "!!float":
		if n.Decode(&f) == nil {
			return f, true
		}
	case "!!str":
		if x, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return x, true
		}
	}
	return 0, false
}

// scalarAny converts a scalar of a free-form field to the value encoding/json would produce.
func (w *walker) scalarAny(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return i
		}
		var u uint64
		if n.Decode(&u) == nil {
			return u
		}
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				// JSON has no NaN or infinity; Kuma's YAML→JSON step rejects them too.
				w.errorf(n, path, "must be a finite number")
				return nil
			}
			return f
		}
	}
	return n.Value
}
