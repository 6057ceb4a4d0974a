package v1alpha1

import "strings"

var caBackendTypes = []string{CABackendBuiltin, CABackendProvided, CABackendStepCA}

// Validate checks a Mesh on its own. Kuma allows one CA backend; meshgate allows several so that
// a new root can be trusted before it issues (DESIGN.md, "CA rotation").
func (m *Mesh) Validate() ErrorList {
	var v validator
	v.meta(&m.Meta)
	if m.Spec.MTLS != nil {
		v.mtls("mtls", m.Spec.MTLS)
	}
	return v.errs
}

func (v *validator) mtls(path string, mtls *MTLS) {
	used := map[string]bool{}
	for i, b := range mtls.Backends {
		bp := joinIndex(joinField(path, "backends"), i)
		name := joinField(bp, "name")
		switch {
		case b.Name == "":
			v.add(name, "cannot be empty")
		case used[b.Name]:
			v.addf(name, "%q name is already used for another backend", b.Name)
		case len(b.Name) > 253 || !dnsLabels.MatchString(b.Name):
			// The name becomes part of Secret names (`<mesh>.ca-builtin-cert-<name>`).
			v.add(name, nameCharsetMsg)
		}
		used[b.Name] = true

		switch b.Type {
		case CABackendBuiltin, CABackendProvided, CABackendStepCA:
		case "":
			v.add(joinField(bp, "type"), "cannot be empty")
		default:
			v.addf(joinField(bp, "type"), "unknown backend type %q. Allowed values: %s", b.Type, strings.Join(caBackendTypes, ", "))
		}
		switch b.Mode {
		case "", CAModeStrict, CAModePermissive:
		default:
			v.addf(joinField(bp, "mode"), "has invalid value %q. Allowed values: %s, %s", b.Mode, CAModeStrict, CAModePermissive)
		}
		if b.DpCert != nil {
			dp := joinField(bp, "dpCert")
			if b.DpCert.Rotation != nil {
				v.duration(joinField(joinField(dp, "rotation"), "expiration"), b.DpCert.Rotation.Expiration)
			}
			v.duration(joinField(dp, "requestTimeout"), b.DpCert.RequestTimeout)
		}
		if b.RootChain != nil {
			v.duration(joinField(joinField(bp, "rootChain"), "requestTimeout"), b.RootChain.RequestTimeout)
		}
	}
	if mtls.EnabledBackend != "" && !used[mtls.EnabledBackend] {
		v.add(joinField(path, "enabledBackend"), "has to be set to one of the backends in the mesh")
	}
}

// duration checks an optional duration; Kuma's message for an unparsable one is kept.
func (v *validator) duration(path, s string) {
	if s == "" {
		return
	}
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		v.add(path, "has to be a valid format")
	case d <= 0:
		v.add(path, "must be a positive duration")
	}
}
