package model

import api "github.com/meshgate/meshgate/api/v1alpha1"

// Gateway returns the MeshGateway serving a builtin dataplane with the given gateway tags
// (docs/kuma-compatibility.md#gateway-binding): the one with the most specific matching selector; on equal rank the most
// recently created; then, where Kuma leaves the choice to map order, the name that sorts first.
// nil when no gateway matches.
func (m *Mesh) Gateway(dpTags map[string]string) *api.MeshGateway {
	var best *api.MeshGateway
	var bestRank Rank
	for _, gw := range m.Gateways { // sorted by name
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

// GatewayDataplanes returns the builtin dataplanes that gw serves, in name order.
func (m *Mesh) GatewayDataplanes(gw *api.MeshGateway) []*api.Dataplane {
	var out []*api.Dataplane
	for _, dp := range m.Dataplanes {
		if dp.Spec.IsBuiltin() && m.Gateway(dp.Spec.Networking.Gateway.Tags) == gw {
			out = append(out, dp)
		}
	}
	return out
}

func gatewayRank(gw *api.MeshGateway, tags map[string]string) (Rank, bool) {
	var best Rank
	if len(gw.Spec.Selectors) == 0 {
		return best, true
	}
	matched := false
	for _, s := range gw.Spec.Selectors {
		if !SelectorMatches(s.Match, tags) {
			continue
		}
		if r := SelectorRank(s.Match); !matched || r.Compare(best) > 0 {
			best = r
		}
		matched = true
	}
	return best, matched
}
