package build

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// bindGateway picks the MeshGateway serving a builtin dataplane (spec §2.1): the one with the
// most specific matching selector; on equal rank the most recently created; then, where Kuma
// leaves the choice to map order, the name that sorts first.
func bindGateway(gateways []*api.MeshGateway, dpTags map[string]string) *api.MeshGateway {
	var best *api.MeshGateway
	var bestRank model.Rank
	for _, gw := range gateways { // sorted by name
		rank, ok := gatewayRank(gw, dpTags)
		if !ok {
			continue
		}
		if best == nil {
			best, bestRank = gw, rank
			continue
		}
		switch c := rank.Compare(bestRank); {
		case c > 0:
			best, bestRank = gw, rank
		case c == 0 && gw.CreationTime.After(best.CreationTime):
			best = gw
		}
	}
	return best
}

func gatewayRank(gw *api.MeshGateway, tags map[string]string) (model.Rank, bool) {
	var best model.Rank
	matched := false
	if len(gw.Spec.Selectors) == 0 {
		return best, true
	}
	for _, s := range gw.Spec.Selectors {
		if !model.SelectorMatches(s.Match, tags) {
			continue
		}
		if r := model.SelectorRank(s.Match); !matched || r.Compare(best) > 0 {
			best = r
		}
		matched = true
	}
	return best, matched
}

// routeAttaches reports whether any of a route's selectors matches the listener tags (§2.3).
func routeAttaches(selectors []api.Selector, listenerTags map[string]string) bool {
	for _, s := range selectors {
		if model.SelectorMatches(s.Match, listenerTags) {
			return true
		}
	}
	return false
}
