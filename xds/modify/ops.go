package modify

import (
	"fmt"
	"slices"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Each operation of conf.modifications has its own file, as its tests do: cluster.go and
// listener.go on resource.go (cluster_test.go), filter.go and edit.go (filter_test.go),
// vhost.go (vhost_test.go). What they share is here.

// tagsUnsupported is the problem for listener tags, which meshgate's listeners do not carry.
const tagsUnsupported = "listener tags are not supported: meshgate's listeners carry no io.kuma.tags metadata"

// describe renders a match for "matches no ..." messages.
func describe(parts ...string) string {
	var out []string
	for i := 0; i+1 < len(parts); i += 2 {
		if parts[i+1] != "" {
			out = append(out, fmt.Sprintf("%s %q", parts[i], parts[i+1]))
		}
	}
	s := ""
	if len(out) > 0 {
		s = " (" + strings.Join(out, ", ") + ")"
	}
	return s
}

// originHint explains why an origin meshgate does not generate matches nothing.
func originHint(origin string) string {
	if origin == "" || slices.Contains(knownOrigins, origin) {
		return ""
	}
	return fmt.Sprintf(": meshgate generates no resources of origin %q (it knows %s)", origin, strings.Join(knownOrigins, ", "))
}

func badResourceOp(op api.ModificationOperation) string {
	return fmt.Sprintf("operation %q is not one of %q, %q, %q", op, api.OpAdd, api.OpPatch, api.OpRemove)
}
