package build

import (
	"fmt"
	"sort"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// A RateLimit on a mesh service is enforced where Kuma enforces it: on the destination's HTTP
// inbound, so each instance has one token bucket per source selector that every caller shares,
// whether it comes through a sidecar outbound or a gateway. Callers are told apart by the
// x-kuma-tags header their own proxy sets (the same recognition FaultInjection uses). Only a
// RateLimit to an ExternalService stays on the caller's outbound, which is the only proxy such
// traffic passes (see outboundRateLimit).

// inboundRateLimit is one source selector of a RateLimit whose destinations select an inbound.
type inboundRateLimit struct {
	policy *api.RateLimit
	source int
	tags   map[string]string
	rank   model.Rank
}

// inboundRoutes are the routes of an HTTP inbound: one per source selector of every RateLimit
// whose destinations select the inbound's tags, most specific source first (then the newest
// policy, then by name and source order, as Kuma sorts them), each matching its source's tags in
// x-kuma-tags and carrying the policy's bucket; then fallback, which serves every other request
// without a limit.
func (b *builder) inboundRoutes(tags map[string]string, fallback ir.Route) []ir.Route {
	var limits []inboundRateLimit
	for _, rl := range model.PoliciesOf[*api.RateLimit](b.mesh, api.KindRateLimit) {
		if _, ok := model.BestMatch(rl.DestinationSelectors(), tags); !ok {
			continue
		}
		for i, src := range rl.SourceSelectors() {
			limits = append(limits, inboundRateLimit{policy: rl, source: i, tags: src, rank: model.SelectorRank(src)})
		}
	}
	sort.SliceStable(limits, func(i, j int) bool {
		if c := limits[i].rank.Compare(limits[j].rank); c != 0 {
			return c > 0
		}
		ti, tj := limits[i].policy.CreationTime, limits[j].policy.CreationTime
		return ti.After(tj)
	})
	var routes []ir.Route
	for _, l := range limits {
		bucket, note := rateLimit(l.policy.Spec.Conf)
		if bucket == nil {
			if note != "" {
				b.diag(&l.policy.Meta, "conf.http", "%s", note)
			}
			continue
		}
		routes = append(routes, rateLimitedRoute(fallback, l, bucket, note))
	}
	return append(routes, fallback)
}

// rateLimitedRoute is fallback restricted to the requests of one source and limited by bucket.
func rateLimitedRoute(fallback ir.Route, l inboundRateLimit, bucket *ir.LocalRateLimit, note string) ir.Route {
	r := fallback
	r.Name = names.InboundRateLimitRoute(l.policy.Name, l.source)
	r.Match.Headers = append([]ir.HeaderMatch(nil), fallback.Match.Headers...)
	keys := make([]string, 0, len(l.tags))
	for k := range l.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.Match.Headers = append(r.Match.Headers, ir.HeaderMatch{Name: names.TagsHeader, Kind: ir.HeaderRegex, Value: names.TagsHeaderRegex(k, l.tags[k])})
	}
	fwd := *fallback.Forward
	fwd.Clusters = append([]ir.WeightedCluster(nil), fallback.Forward.Clusters...)
	fwd.RateLimit = bucket
	fwd.Policies = append(append([]ir.PolicyDecision(nil), fallback.Forward.Policies...), ir.PolicyDecision{
		Kind: string(api.KindRateLimit), Applied: l.policy.Name,
		Note: joinNote(fmt.Sprintf("requests from %s (sources[%d]) share this instance's bucket", names.TagString(l.tags), l.source), note),
	})
	r.Forward = &fwd
	return r
}

// outboundRateLimit applies the RateLimit chosen for a route to an ExternalService on the
// caller's outbound (Kuma does so when the mesh has no zone egress; meshgate has none). For a
// mesh service it only says where the limit is enforced: the destination's inbound.
func (b *builder) outboundRateLimit(fwd *ir.Forward, dests []map[string]string, external bool) {
	pp := b.pickForRoute(api.KindRateLimit, nil, dests)
	if pp == nil {
		return
	}
	if external {
		b.applyRateLimit(fwd, pp)
		return
	}
	cands := []string{pp.policy.GetMeta().Name}
	for _, l := range pp.decision.Lost {
		cands = append(cands, l.Name)
	}
	sort.Strings(cands)
	fwd.Policies = append(fwd.Policies, ir.PolicyDecision{
		Kind: string(api.KindRateLimit),
		Note: "RateLimit is enforced by the destination's inbound, not on this outbound: the one with the most specific source matching this caller applies there, one bucket per instance shared by all callers (candidates: " + strings.Join(cands, ", ") + ")",
	})
}
