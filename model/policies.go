package model

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// PoliciesOf returns the mesh's resources of kind K (a pointer type such as
// *api.TrafficPermission), sorted by name.
func PoliciesOf[K api.Object](m *Mesh, kind api.Kind) []K {
	list := m.Policies[kind]
	out := make([]K, 0, len(list))
	for _, o := range list {
		if k, ok := o.(K); ok {
			out = append(out, k)
		}
	}
	return out
}

// SourceDestination is a policy selecting sources and destinations by tags (Kuma's
// pre-targetRef policies: TrafficPermission, FaultInjection, TrafficLog, ...).
type SourceDestination interface {
	api.Object
	SourceSelectors() []map[string]string
	DestinationSelectors() []map[string]string
}

// BestMatch returns the best rank of any selector in sels that matches tags.
func BestMatch(sels []map[string]string, tags map[string]string) (Rank, bool) {
	var best Rank
	found := false
	for _, s := range sels {
		if !SelectorMatches(s, tags) {
			continue
		}
		if r := SelectorRank(s); !found || r.Compare(best) > 0 {
			best, found = r, true
		}
	}
	return best, found
}

// Add sums two ranks: a policy's source and destination specificity together.
func (r Rank) Add(o Rank) Rank {
	return Rank{Exact: r.Exact + o.Exact, Wildcard: r.Wildcard + o.Wildcard}
}
