package modify

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// Select returns the ProxyTemplate of the mesh that applies to dp, or nil. Kuma gives a
// dataplane one ProxyTemplate (pkg/core/policy SelectDataplanePolicy): the one whose selectors
// best match the dataplane — its gateway tags for a gateway, any one of its inbounds' tags for a
// sidecar — where a template without selectors matches every dataplane with the lowest rank.
// Equal ranks go to the most recently created template, then to the first by name.
func Select(mesh *model.Mesh, dp *api.Dataplane) *api.ProxyTemplate {
	if mesh == nil || dp == nil {
		return nil
	}
	var best *api.ProxyTemplate
	var bestRank model.Rank
	for _, pt := range model.PoliciesOf[*api.ProxyTemplate](mesh, api.KindProxyTemplate) {
		r, ok := dataplaneRank(pt.Selectors(), dp)
		if !ok {
			continue
		}
		if best == nil || better(pt, r, best, bestRank) {
			best, bestRank = pt, r
		}
	}
	return best
}

// better reports whether pt (rank r) beats best (rank br).
func better(pt *api.ProxyTemplate, r model.Rank, best *api.ProxyTemplate, br model.Rank) bool {
	if c := r.Compare(br); c != 0 {
		return c > 0
	}
	if !pt.CreationTime.Equal(best.CreationTime) {
		return pt.CreationTime.After(best.CreationTime)
	}
	return pt.Name < best.Name
}

// dataplaneRank matches selectors against the dataplane as Kuma's Dataplane.Matches does.
func dataplaneRank(sels []map[string]string, dp *api.Dataplane) (model.Rank, bool) {
	if len(sels) == 0 {
		return model.Rank{}, true
	}
	if g := dp.Spec.Networking.Gateway; g != nil {
		return model.BestMatch(sels, g.Tags)
	}
	var best model.Rank
	found := false
	for _, in := range dp.Spec.Networking.Inbound {
		if r, ok := model.BestMatch(sels, in.Tags); ok && (!found || r.Compare(best) > 0) {
			best, found = r, true
		}
	}
	return best, found
}
