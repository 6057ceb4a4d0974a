package build

import (
	"sort"
	"strconv"

	"github.com/meshgate/meshgate/xds/ir"
)

// sortEntries orders a virtual host's routes by Kuma's precedence (docs/kuma-compatibility.md#route-precedence) and then by a
// total tie-break, so that the same input always yields the same order and it is documented
// which of two identical matches wins:
//  1. exact path before none, longer first;  2. prefix path likewise;  3. regex path likewise;
//  4. a method match before none;  5. more header matches first;  6. more query matches first;
//  7. path string ascending;  8. MeshGatewayRoute name, rule index, match index ascending.
func sortEntries(es []entry) {
	sort.SliceStable(es, func(i, j int) bool { return compareEntries(es[i], es[j]) < 0 })
}

func compareEntries(a, b entry) int {
	for _, kind := range []ir.PathKind{ir.PathExact, ir.PathPrefix, ir.PathRegex} {
		if c := comparePathKind(a.m.Path, b.m.Path, kind); c != 0 {
			return c
		}
	}
	if am, bm := a.m.Method != "", b.m.Method != ""; am != bm {
		if am {
			return -1
		}
		return 1
	}
	if c := len(b.m.Headers) - len(a.m.Headers); c != 0 {
		return c
	}
	if c := len(b.m.Query) - len(a.m.Query); c != 0 {
		return c
	}
	if a.m.Path.Value != b.m.Path.Value {
		return cmpString(a.m.Path.Value, b.m.Path.Value)
	}
	if a.route.Name != b.route.Name {
		return cmpString(a.route.Name, b.route.Name)
	}
	if a.rule != b.rule {
		return a.rule - b.rule
	}
	return a.match - b.match
}

// comparePathKind ranks a before b when only a has a path of this kind, or both do and a's
// value is longer.
func comparePathKind(a, b ir.PathMatch, kind ir.PathKind) int {
	ak, bk := a.Kind == kind, b.Kind == kind
	switch {
	case ak && !bk:
		return -1
	case !ak && bk:
		return 1
	case ak && bk:
		return len(b.Value) - len(a.Value)
	}
	return 0
}

func cmpString(a, b string) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func itoa(i int) string { return strconv.Itoa(i) }
