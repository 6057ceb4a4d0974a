package model

// SelectorMatches reports whether every key of selector is in tags with an equal value, or the
// selector value is `*`. An empty selector matches everything.
func SelectorMatches(selector, tags map[string]string) bool {
	for k, v := range selector {
		tv, ok := tags[k]
		if !ok {
			return false
		}
		if v != "*" && v != tv {
			return false
		}
	}
	return true
}

// Rank orders matching selectors by specificity: more tags first, then more exact values.
type Rank struct {
	Exact    int
	Wildcard int
}

// SelectorRank is the rank of a selector (meaningful only when it matches).
func SelectorRank(selector map[string]string) Rank {
	var r Rank
	for _, v := range selector {
		if v == "*" {
			r.Wildcard++
		} else {
			r.Exact++
		}
	}
	return r
}

// Compare returns >0 when r is more specific than o, <0 when less, 0 when equal.
func (r Rank) Compare(o Rank) int {
	if t, ot := r.Exact+r.Wildcard, o.Exact+o.Wildcard; t != ot {
		return t - ot
	}
	return r.Exact - o.Exact
}

// MergeTags returns a new map with every set applied in order, later keys winning.
func MergeTags(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}
