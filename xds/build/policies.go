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
// Kuma's gateway chooses them (docs/kuma-compatibility.md#policy-matching), with every tie broken so the same input always gives
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

// pickForRoute applies the route-level rule (the seed's wording) to a route's forward
// destinations (mirrors excluded): the candidates are every policy whose sources select the
// listener and whose destinations match any of them. When the destinations are different
// services, a policy with a wildcard `kuma.io/service` destination is preferred; when they are
// all one service, a policy naming that service is. The oldest candidate wins, then the first
// by name.
func (b *builder) pickForRoute(kind api.Kind, listenerTags map[string]string, dests []map[string]string) *policyPick {
	services := map[string]bool{}
	for _, d := range dests {
		services[d[api.ServiceTag]] = true
	}
	var cands []model.SourceDestination
	for _, o := range b.mesh.Policies[kind] {
		p, ok := o.(model.SourceDestination)
		if !ok {
			continue
		}
		if _, ok := b.sourceMatches(p, listenerTags); !ok {
			continue
		}
		for _, d := range dests {
			if _, ok := model.BestMatch(p.DestinationSelectors(), d); ok {
				cands = append(cands, p)
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	wildcard := func(p model.SourceDestination) bool {
		for _, s := range p.DestinationSelectors() {
			if s[api.ServiceTag] == "*" {
				return true
			}
		}
		return false
	}
	preferred, note := func(p model.SourceDestination) bool { return !wildcard(p) }, "one service: the oldest policy naming it"
	reason := "a wildcard destination"
	if len(services) > 1 {
		preferred, note = wildcard, "several services: the oldest wildcard-destination policy"
		reason = "not a wildcard destination"
	}
	var pool []model.SourceDestination
	for _, p := range cands {
		if preferred(p) {
			pool = append(pool, p)
		}
	}
	if len(pool) == 0 {
		pool, reason = cands, ""
		note = "the oldest matching policy"
	}
	sort.SliceStable(pool, func(i, j int) bool {
		ti, tj := pool[i].GetMeta().CreationTime, pool[j].GetMeta().CreationTime
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return pool[i].GetMeta().Name < pool[j].GetMeta().Name
	})
	win := pool[0]
	d := ir.PolicyDecision{Kind: string(kind), Applied: win.GetMeta().Name, Note: note}
	for _, p := range cands {
		if p == win {
			continue
		}
		r := "created later"
		switch {
		case reason != "" && !preferred(p):
			r = reason
		case p.GetMeta().CreationTime.Equal(win.GetMeta().CreationTime):
			r = "same age, later by name"
		}
		d.Lost = append(d.Lost, ir.LostPolicy{Name: p.GetMeta().Name, Reason: r})
	}
	return &policyPick{policy: win, decision: d}
}
