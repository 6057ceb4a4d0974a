package build

import (
	"sort"
	"strings"
)

// Hostname semantics follow Kuma's (docs/kuma-compatibility.md#hostnames) with its label-matching bug fixed: a concrete
// name contains only itself, `*.s` contains every name (and wildcard) ending in `.s`, and `*`
// contains everything.

func isWildcard(h string) bool { return h == "*" || strings.HasPrefix(h, "*.") }

// hostContains reports whether every name matched by h is also matched... precisely: whether
// pattern h matches name (or wildcard) n.
func hostContains(h, n string) bool {
	switch {
	case h == "*":
		return true
	case h == n:
		return true
	case strings.HasPrefix(h, "*."):
		suffix := h[1:] // ".s"
		return strings.HasSuffix(n, suffix) && len(n) > len(suffix) && n != "*"
	default:
		return false
	}
}

// hostIntersection is the more specific of a and b when one contains the other.
func hostIntersection(a, b string) (string, bool) {
	switch {
	case hostContains(a, b):
		return b, true
	case hostContains(b, a):
		return a, true
	default:
		return "", false
	}
}

// moreExact orders hostnames as Kuma's SortHostnamesByExactnessDec: concrete names first,
// then wildcards with more labels, then `*`; ties lexically.
func moreExact(a, b string) bool {
	wa, wb := isWildcard(a), isWildcard(b)
	if wa != wb {
		return !wa
	}
	if wa {
		la, lb := labels(a), labels(b)
		if la != lb {
			return la > lb
		}
	}
	return a < b
}

func labels(h string) int {
	if h == "*" {
		return 0
	}
	return strings.Count(h, ".") + 1
}

func sortHostnames(hs []string) {
	sort.SliceStable(hs, func(i, j int) bool { return moreExact(hs[i], hs[j]) })
}
