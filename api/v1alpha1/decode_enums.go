package v1alpha1

import (
	"reflect"
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

func init() {
	registerEnum([]Protocol{ProtocolTCP, ProtocolTLS, ProtocolHTTP, ProtocolHTTPS}, "NONE")
	registerEnum([]TLSMode{TLSModeTerminate, TLSModePassthrough}, "NONE")
	registerEnum([]GatewayType{GatewayDelegated, GatewayBuiltin})
	registerEnum([]PathMatchType{PathExact, PathPrefix, PathRegex})
	registerEnum([]HeaderMatchType{HeaderExact, HeaderRegex, HeaderAbsent, HeaderPresent})
	registerEnum([]QueryMatchType{QueryExact, QueryRegex})
}
