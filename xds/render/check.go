package render

import (
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/ir"
)

// DiagnosticString formats a diagnostic like a validation error, without file and line.
func DiagnosticString(d ir.Diagnostic) string {
	s := d.Resource + ": "
	if d.Field != "" {
		s += d.Field + ": "
	}
	return s + d.Message
}

// CheckAll renders every builtin gateway dataplane and returns their diagnostics, deduplicated
// and in order. An error means meshgate itself produced invalid configuration.
func CheckAll(m *model.Model, opts build.Options) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, mesh := range m.Meshes() {
		for _, dp := range mesh.Dataplanes {
			if !dp.Spec.IsBuiltin() {
				continue
			}
			o, err := Dataplane(m, mesh.Name, dp.Name, opts)
			if err != nil {
				return nil, err
			}
			for _, d := range o.Proxy.Diagnostics {
				if s := DiagnosticString(d); !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
	}
	return out, nil
}
