package crossmesh

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// bindGateway is the binding rule of xds/build (spec §2.1), reimplemented here because crossmesh
// must not depend on xds and the rule is not trivial enough to move into model without owning
// it there: most specific matching selector; on equal rank the most recently created; then the
// name that sorts first (gateways arrive sorted by name). Keep the two in step.
func bindGateway(gateways []*api.MeshGateway, dpTags map[string]string) *api.MeshGateway {
	var best *api.MeshGateway
	var bestRank model.Rank
	for _, gw := range gateways {
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
	if len(gw.Spec.Selectors) == 0 {
		return best, true
	}
	matched := false
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

// boundDataplanes returns the builtin dataplanes of mesh that bind to gw, in name order.
func boundDataplanes(mesh *model.Mesh, gw *api.MeshGateway) []*api.Dataplane {
	var out []*api.Dataplane
	for _, dp := range mesh.Dataplanes {
		if !dp.Spec.IsBuiltin() {
			continue
		}
		if bindGateway(mesh.Gateways, dp.Spec.Networking.Gateway.Tags) == gw {
			out = append(out, dp)
		}
	}
	return out
}
