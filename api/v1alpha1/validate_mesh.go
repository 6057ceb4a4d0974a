package v1alpha1

import (
	"net"
	"strconv"
	"strings"
)

var caBackendTypes = []string{CABackendBuiltin, CABackendProvided, CABackendStepCA}

// Validate checks a Mesh on its own. Kuma allows one CA backend; meshgate allows several so that
// a new root can be trusted before it issues (DESIGN.md, "CA rotation").
func (m *Mesh) Validate() ErrorList {
	var v validator
	v.meta(&m.Meta)
	if m.Spec.MTLS != nil {
		v.mtls("mtls", m.Spec.MTLS)
	}
	if m.Spec.Logging != nil {
		v.logging("logging", m.Spec.Logging)
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

// logging applies Kuma's rules for Mesh.logging (pkg/core/resources/apis/mesh/mesh_validator.go),
// with the backend's conf checked as strictly as Kuma's typed decoding of it: file takes only
// `path`, tcp only `address`. A tcp port must also be a real port, which Kuma leaves to the
// moment the dataplane dials it. The format string is not checked (Kuma checks Envoy's command
// operators; a wrong one is only noticed by Envoy).
func (v *validator) logging(path string, l *Logging) {
	used := map[string]bool{}
	for i, b := range l.Backends {
		bp := joinIndex(joinField(path, "backends"), i)
		name := joinField(bp, "name")
		switch {
		case b.Name == "":
			v.add(name, "cannot be empty")
		case used[b.Name]:
			v.addf(name, "%q name is already used for another backend", b.Name)
		}
		used[b.Name] = true

		conf := joinField(bp, "conf")
		switch b.Type {
		case LoggingBackendFile:
			if p, ok := v.backendConf(conf, b.Conf, "path"); ok && p == "" {
				v.add(joinField(conf, "path"), "cannot be empty")
			}
		case LoggingBackendTCP:
			addr, ok := v.backendConf(conf, b.Conf, "address")
			if !ok {
				break
			}
			ap := joinField(conf, "address")
			if addr == "" {
				v.add(ap, "cannot be empty")
				break
			}
			host, port, err := net.SplitHostPort(addr)
			p, perr := strconv.ParseUint(port, 10, 32)
			if err != nil || host == "" || perr != nil {
				v.add(ap, "has to be in format of HOST:PORT")
				break
			}
			v.port(ap, uint32(p))
		default:
			v.addf(joinField(bp, "type"), "unknown backend type. Available backends: %q, %q", LoggingBackendTCP, LoggingBackendFile)
		}
	}
	if l.DefaultBackend != "" && !used[l.DefaultBackend] {
		v.add(joinField(path, "defaultBackend"), "has to be set to one of the logging backend in mesh")
	}
}

// backendConf checks that a backend's free-form conf holds no key but key, and that key, when
// present, is a string; it returns that string and false when the value is not one.
func (v *validator) backendConf(path string, conf map[string]any, key string) (string, bool) {
	for _, k := range sortedKeys(conf) {
		if k != key {
			v.addf(path, "unknown field %q", k)
		}
	}
	val, present := conf[key]
	if !present || val == nil {
		return "", true
	}
	s, ok := val.(string)
	if !ok {
		v.add(anyChild(path, key), "must be a string")
	}
	return s, ok
}
