package build

import (
	"fmt"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// Connection policies (CircuitBreaker, HealthCheck, RateLimit, Retry, Timeout) are chosen as
// Kuma's gateway chooses them (spec §7.1), with every tie broken so the same input always gives
// the same output:
//
//   - per destination (cluster settings): among policies whose sources match the listener's
//     tags (a sidecar: any of its inbounds) and whose destinations match the destination, the
//     highest source+destination rank wins; then the most recently created; then the first by
//     name.
//   - per route (retry, rate limit, request timeout) when a route forwards to several
//     destinations: of the per-destination winners, prefer those with a wildcard
//     `kuma.io/service` destination; among them the oldest created wins; then the first by name.

// ranked is a policy that matched a source, with its combined rank for one destination.
type ranked struct {
	p    model.SourceDestination
	rank model.Rank
}

// policyPick is the policy applied for one destination and the decision that explains it.
type policyPick struct {
	policy   model.SourceDestination
	decision ir.PolicyDecision
}

// sourceMatches returns the rank with which a policy's sources select this proxy: the
// gateway listener's tags when given, else this dataplane's inbounds.
func (b *builder) sourceMatches(p model.SourceDestination, listenerTags map[string]string) (model.Rank, bool) {
	if listenerTags != nil {
		return model.BestMatch(p.SourceSelectors(), listenerTags)
	}
	return b.sourceRank(p.SourceSelectors())
}

// pickForDestination applies the per-destination rule to every policy of kind.
func (b *builder) pickForDestination(kind api.Kind, listenerTags, dest map[string]string) *policyPick {
	var cands []ranked
	for _, o := range b.mesh.Policies[kind] {
		p, ok := o.(model.SourceDestination)
		if !ok {
			continue
		}
		src, ok := b.sourceMatches(p, listenerTags)
		if !ok {
			continue
		}
		dst, ok := model.BestMatch(p.DestinationSelectors(), dest)
		if !ok {
			continue
		}
		cands = append(cands, ranked{p: p, rank: src.Add(dst)})
	}
	if len(cands) == 0 {
		return nil
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if c := cands[i].rank.Compare(cands[j].rank); c != 0 {
			return c > 0
		}
		ti, tj := cands[i].p.GetMeta().CreationTime, cands[j].p.GetMeta().CreationTime
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return cands[i].p.GetMeta().Name < cands[j].p.GetMeta().Name
	})
	win := cands[0]
	d := ir.PolicyDecision{Kind: string(kind), Applied: win.p.GetMeta().Name,
		Note: fmt.Sprintf("best match for %s", names.Cluster(dest))}
	for _, c := range cands[1:] {
		reason := "less specific"
		if c.rank.Compare(win.rank) == 0 {
			reason = "equally specific, "
			if !c.p.GetMeta().CreationTime.Equal(win.p.GetMeta().CreationTime) {
				reason += "created earlier"
			} else {
				reason += "later by name"
			}
		}
		d.Lost = append(d.Lost, ir.LostPolicy{Name: c.p.GetMeta().Name, Reason: reason})
	}
	return &policyPick{policy: win.p, decision: d}
}

// pickForRoute applies the route-level rule to the per-destination winners of a route's
// forward destinations (mirrors excluded).
func pickForRoute(kind api.Kind, perDest []*policyPick, dests []map[string]string) *policyPick {
	seen := map[string]bool{}
	var wins []model.SourceDestination
	for _, pp := range perDest {
		if pp == nil || seen[pp.policy.GetMeta().Name] {
			continue
		}
		seen[pp.policy.GetMeta().Name] = true
		wins = append(wins, pp.policy)
	}
	if len(wins) == 0 {
		return nil
	}
	if len(wins) == 1 && len(dests) == 1 {
		return &policyPick{policy: wins[0], decision: perDest[0].decision}
	}
	wildcard := func(p model.SourceDestination) bool {
		for _, s := range p.DestinationSelectors() {
			if s[names.ServiceTag] == "*" {
				return true
			}
		}
		return false
	}
	var cands []model.SourceDestination
	for _, p := range wins {
		if wildcard(p) {
			cands = append(cands, p)
		}
	}
	note := "oldest of the destinations' policies"
	if len(cands) > 0 {
		note = "destinations differ: a wildcard-destination policy is preferred; oldest of those"
	} else {
		cands = wins
	}
	sort.SliceStable(cands, func(i, j int) bool {
		ti, tj := cands[i].GetMeta().CreationTime, cands[j].GetMeta().CreationTime
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return cands[i].GetMeta().Name < cands[j].GetMeta().Name
	})
	win := cands[0]
	d := ir.PolicyDecision{Kind: string(kind), Applied: win.GetMeta().Name, Note: note}
	for _, p := range wins {
		if p == win {
			continue
		}
		reason := "created later"
		switch {
		case !wildcard(p) && wildcard(win):
			reason = "not a wildcard destination"
		case p.GetMeta().CreationTime.Equal(win.GetMeta().CreationTime):
			reason = "same age, later by name"
		}
		d.Lost = append(d.Lost, ir.LostPolicy{Name: p.GetMeta().Name, Reason: reason})
	}
	return &policyPick{policy: win, decision: d}
}
