package v1alpha1

import "strconv"

// Field paths follow Kuma's validators (`a.b[0].c`, map keys as `tags["key"]`) so that messages
// read the same as Kuma's; segment names are the camelCase json names whatever spelling the
// document used, so a path means one thing.

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func joinKey(path, key string) string {
	return path + "[" + strconv.Quote(key) + "]"
}

// pathPrefixes returns path followed by each of its ancestors, longest first. Map keys may hold
// dots and brackets (`tags["kuma.io/service"]`), so quoted keys are skipped while scanning.
func pathPrefixes(path string) []string {
	var cuts []int
	inQuote := false
	for i := 0; i < len(path); i++ {
		c := path[i]
		if inQuote {
			switch c {
			case '\\':
				i++
			case '"':
				inQuote = false
			}
			continue
		}
		switch c {
		case '"':
			inQuote = true
		case '.', '[':
			if i > 0 {
				cuts = append(cuts, i)
			}
		}
	}
	out := make([]string, 0, len(cuts)+1)
	if path != "" {
		out = append(out, path)
	}
	for k := len(cuts) - 1; k >= 0; k-- {
		out = append(out, path[:cuts[k]])
	}
	return out
}
