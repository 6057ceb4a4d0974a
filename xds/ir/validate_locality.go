package ir

import "fmt"

// endpointPriorities checks Envoy's priority rules: a remote (priority > 0) endpoint names its
// zone, and priorities have no gaps, since Envoy fails over level by level and an empty level
// in between would make the levels above it unreachable as the operator meant them.
func (v *validator) endpointPriorities(path string, eps []Endpoint) {
	var maxPrio uint32
	have := map[uint32]bool{}
	for i, e := range eps {
		have[e.Priority] = true
		maxPrio = max(maxPrio, e.Priority)
		if e.Priority > 0 && e.Zone == "" {
			v.add(fmt.Sprintf("%s.endpoints[%d].zone", path, i), "must be set for an endpoint of priority %d", e.Priority)
		}
	}
	for p := uint32(0); p < maxPrio && p < uint32(len(eps)); p++ {
		if !have[p] {
			v.add(path+".endpoints", "priority %d has no endpoint while priority %d has some", p, maxPrio)
			return
		}
	}
}
