package ca

import (
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
)

// DataplaneSubject is what a dataplane's workload certificate states: its services (the
// `kuma.io/service` values of its gateway and inbound tags, sorted, duplicates dropped) and all
// those tags, each key with its distinct values, sorted. It is the one statement of it: the
// control plane issues exactly this (ca/identity), and `explain --source` reasons about
// RBAC with exactly this (xds/render), so the two cannot drift.
func DataplaneSubject(mesh string, dp *api.Dataplane) certs.Identity {
	tags := map[string][]string{}
	add := func(set map[string]string) {
		for k, v := range set {
			tags[k] = append(tags[k], v)
		}
	}
	if g := dp.Spec.Networking.Gateway; g != nil {
		add(g.Tags)
	}
	for _, in := range dp.Spec.Networking.Inbound {
		add(in.Tags)
	}
	for k, vs := range tags {
		sort.Strings(vs)
		tags[k] = dedupe(vs)
	}
	return certs.Identity{Mesh: mesh, Services: tags[api.ServiceTag], Tags: tags}
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
