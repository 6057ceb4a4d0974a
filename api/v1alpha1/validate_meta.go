package v1alpha1

import "regexp"

// Kuma's name rules (pkg/core/resources/apis/mesh/meta_validator.go): resource names are RFC 1123
// subdomains; mesh references use the older, laxer pattern because existing meshes may have `_`.
var (
	meshRefCharset = regexp.MustCompile(`^[0-9a-z-_.]*$`)
)

const (
	nameCharsetMsg    = "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
	meshRefCharsetMsg = "invalid characters. Valid characters are numbers, lowercase latin letters and '-', '_', '.' symbols."
)

func (v *validator) meta(m *Meta) {
	v.identifier("name", m.Name, dnsLabels, nameCharsetMsg)
	global := m.Kind == KindMesh
	if info, ok := LookupKind(m.Kind); ok {
		global = info.Global
	}
	if !global {
		v.identifier("mesh", m.Mesh, meshRefCharset, meshRefCharsetMsg)
	}
}

func (v *validator) identifier(path, s string, re *regexp.Regexp, msg string) {
	switch {
	case s == "":
		v.add(path, "cannot be empty")
	case len(s) > 253:
		v.add(path, "value length must less or equal 253")
	case !re.MatchString(s):
		v.add(path, msg)
	}
}
