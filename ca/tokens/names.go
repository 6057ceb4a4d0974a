package tokens

import (
	"fmt"
	"regexp"
)

// Mesh names used in tokens exclude dots, unlike mesh names in general: the dataplane's node id
// is `<mesh>.<name>` and the xDS server recovers the pair by splitting at the first dot, as Kuma
// does. A dotted mesh would make one node id name two dataplanes.
var (
	meshPattern = regexp.MustCompile(`^[0-9a-z_-]+$`)
	// namePattern is an RFC 1123 subdomain, the rule for resource names.
	namePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

const maxNameLen = 253

func checkMesh(mesh string) error {
	switch {
	case mesh == "":
		return fmt.Errorf("%w: mesh is empty", ErrBadRequest)
	case len(mesh) > maxNameLen:
		return fmt.Errorf("%w: mesh %q is longer than %d characters", ErrBadRequest, mesh, maxNameLen)
	case !meshPattern.MatchString(mesh):
		return fmt.Errorf("%w: mesh %q: only lowercase letters, digits, '-' and '_' (no '.': the node id <mesh>.<name> must split unambiguously)", ErrBadRequest, mesh)
	}
	return nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: dataplane name is empty", ErrBadRequest)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: dataplane name %q is longer than %d characters", ErrBadRequest, name, maxNameLen)
	case !namePattern.MatchString(name):
		return fmt.Errorf("%w: dataplane name %q is not a lowercase RFC 1123 subdomain", ErrBadRequest, name)
	}
	return nil
}

// State keys, one pair per mesh.
func signingKeyState(mesh string) string  { return "tokens/" + mesh + "/signing-key" }
func revocationsState(mesh string) string { return "tokens/" + mesh + "/revocations" }
