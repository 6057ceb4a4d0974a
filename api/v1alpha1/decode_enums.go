package v1alpha1

import (
	"reflect"
	"sort"
	"strings"
)

// enumSpec lists the names a proto enum field accepts. Kuma's protojson decoding rejects unknown
// names, so ours does too, at decode time and with the allowed values spelled out.
type enumSpec struct {
	// listed is what error messages offer; the zero `NONE` names are accepted but not offered,
	// since writing them means "unset" and validation then asks for a real value.
	listed []string
	values map[string]string
}

var enums = map[reflect.Type]*enumSpec{}

// registerEnum declares T an enum. zeroNames are extra accepted names that decode to "".
func registerEnum[T ~string](values []T, zeroNames ...string) {
	spec := &enumSpec{values: map[string]string{}}
	for _, v := range values {
		spec.listed = append(spec.listed, string(v))
		spec.values[string(v)] = string(v)
	}
	for _, z := range zeroNames {
		spec.values[z] = ""
	}
	enums[reflect.TypeFor[T]()] = spec
}

func (e *enumSpec) allowed() string { return strings.Join(e.listed, ", ") }

// EnumValues returns every name the decoder accepts for an enum type (the listed values, then
// the zero names, sorted), and false for a type that is not an enum. The CRD schema uses it.
func EnumValues(t reflect.Type) ([]string, bool) {
	spec, ok := enums[t]
	if !ok {
		return nil, false
	}
	out := append([]string(nil), spec.listed...)
	var zero []string
	for name, v := range spec.values {
		if v == "" {
			zero = append(zero, name)
		}
	}
	sort.Strings(zero)
	return append(out, zero...), true
}

func init() {
	registerEnum([]Protocol{ProtocolTCP, ProtocolTLS, ProtocolHTTP, ProtocolHTTPS}, "NONE")
	registerEnum([]TLSMode{TLSModeTerminate, TLSModePassthrough}, "NONE")
	registerEnum([]GatewayType{GatewayDelegated, GatewayBuiltin})
	registerEnum([]PathMatchType{PathExact, PathPrefix, PathRegex})
	registerEnum([]HeaderMatchType{HeaderExact, HeaderRegex, HeaderAbsent, HeaderPresent})
	registerEnum([]QueryMatchType{QueryExact, QueryRegex})
	registerEnum([]ServiceType{ServiceTypeLoadBalancer, ServiceTypeClusterIP, ServiceTypeNodePort})
}
