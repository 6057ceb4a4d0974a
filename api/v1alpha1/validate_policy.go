package v1alpha1

import (
	"math"
	"net/http"
	"slices"
	"strings"
)

// Validation of Kuma's source/destination policies follows Kuma's validators
// (pkg/core/resources/apis/mesh/{traffic_permission,fault_injection,traffic_log}_validator.go):
// every policy needs at least one source and one destination, each selector at least one tag,
// with the selector character sets of docs/kuma-compatibility.md#selectors-and-tags.
//
// meshgate adds one rule of its own to every policy's sources: a `kuma.io/mesh` tag (which
// selects callers from another mesh, DESIGN.md "cross-mesh") must name one mesh, by a valid mesh
// name. Kuma has no such rule (its dataplanes never carry the tag, so Kuma would just match
// nothing). `*` is rejected because a wildcard over meshes is easy to write by mistake and would
// admit every mesh the listener trusts: a source that means "any caller" leaves the tag out (what
// a missing tag means is the matcher's business, not this package's), and one that trusts other
// meshes lists them one by one.

// sourceRules are the rules of a policy's sources: Kuma's, plus the kuma.io/mesh rule above.
func sourceRules(requireService bool) tagRules {
	return tagRules{atLeastOne: true, selector: true, requireService: requireService, check: sourceMeshTag}
}

// destinationRules are Kuma's rules for TrafficPermission and FaultInjection destinations.
var destinationRules = tagRules{atLeastOne: true, selector: true}

func sourceMeshTag(v *validator, path string, tags map[string]string) {
	mesh, ok := tags[MeshTag]
	if !ok || mesh == "" {
		return // an empty value is reported with the other tags
	}
	switch {
	case mesh == "*":
		v.add(joinKey(path, MeshTag), `must name one mesh: "*" is not allowed`)
	case !meshRefCharset.MatchString(mesh):
		v.add(joinKey(path, MeshTag), meshRefCharsetMsg)
	}
}

// onlyServiceRules is Kuma's OnlyServiceTagAllowed, for TrafficLog destinations: exactly one
// tag, kuma.io/service.
var onlyServiceRules = tagRules{requireService: true, selector: true, check: func(v *validator, path string, tags map[string]string) {
	if _, ok := tags[ServiceTag]; len(tags) != 1 || !ok {
		v.addf(path, "must consist of exactly one tag %q", ServiceTag)
	}
	for _, key := range sortedKeys(tags) {
		if key != ServiceTag {
			v.addf(joinKey(path, key), "tag %q is not allowed", key)
		}
	}
}}

// faultProtocols are the destination protocols Kuma allows a FaultInjection for: its faults are
// HTTP filters.
var faultProtocols = []string{"http", "http2", "grpc"}

// requireProtocol is Kuma's ProtocolValidator: the selector must carry kuma.io/protocol with
// one of the given values.
func requireProtocol(protocols []string) func(v *validator, path string, tags map[string]string) {
	return func(v *validator, path string, tags map[string]string) {
		p, ok := tags[ProtocolTag]
		switch {
		case !ok:
			v.add(path, "protocol must be specified")
		case !slices.Contains(protocols, p):
			v.addf(joinKey(path, ProtocolTag), "must be one of the [%s]", strings.Join(protocols, ", "))
		}
	}
}

// Validate checks a TrafficPermission with Kuma's rules.
func (p *TrafficPermission) Validate() ErrorList {
	var v validator
	v.meta(&p.Meta)
	v.selectors("sources", p.Spec.Sources, false, sourceRules(false))
	v.selectors("destinations", p.Spec.Destinations, false, destinationRules)
	return v.errs
}

// Validate checks a FaultInjection with Kuma's rules, plus the ones Envoy's fault filter
// enforces and Kuma does not (a positive delay, an abort status in [200, 599], a bandwidth of at
// least 1kbps), so that a valid FaultInjection never produces a rejected filter.
func (f *FaultInjection) Validate() ErrorList {
	var v validator
	v.meta(&f.Meta)
	v.selectors("sources", f.Spec.Sources, false, sourceRules(false))
	dest := destinationRules
	dest.check = requireProtocol(faultProtocols)
	v.selectors("destinations", f.Spec.Destinations, false, dest)
	v.faultConf("conf", f.Spec.Conf)
	return v.errs
}

func (v *validator) faultConf(path string, c *FaultInjectionConf) {
	if c == nil || (c.Delay == nil && c.Abort == nil && c.ResponseBandwidth == nil) {
		v.add(path, "must have at least one of the faults configured")
		return
	}
	// Kuma treats an empty fault (`delay: {}`) as absent and then generates it anyway, which
	// Envoy rejects; here it is present and its missing fields are reported.
	if d := c.Delay; d != nil {
		p := joinField(path, "delay")
		v.percentage(joinField(p, "percentage"), d.Percentage)
		if d.Value == "" {
			v.add(joinField(p, "value"), "cannot be empty")
		} else {
			v.duration(joinField(p, "value"), d.Value)
		}
	}
	if a := c.Abort; a != nil {
		p := joinField(path, "abort")
		v.percentage(joinField(p, "percentage"), a.Percentage)
		status := joinField(p, "httpStatus")
		switch {
		case a.HTTPStatus == nil:
			v.add(status, "cannot be empty")
		case http.StatusText(int(*a.HTTPStatus)) == "":
			v.add(status, "http status code is incorrect")
		case *a.HTTPStatus < 200:
			// Kuma accepts 1xx; Envoy's fault filter requires [200, 600).
			v.add(status, "must be in the range [200, 599]")
		}
	}
	if b := c.ResponseBandwidth; b != nil {
		p := joinField(path, "responseBandwidth")
		v.percentage(joinField(p, "percentage"), b.Percentage)
		limit := joinField(p, "limit")
		if b.Limit == "" {
			v.add(limit, "cannot be empty")
		} else if kbps, err := b.LimitKbps(); err != nil {
			v.add(limit, err.Error())
		} else if kbps == 0 {
			// Envoy requires limit_kbps >= 1.
			v.add(limit, "must be at least 1kbps")
		}
	}
}

// percentage checks a required percentage with Kuma's messages.
func (v *validator) percentage(path string, p *float64) {
	switch {
	case p == nil:
		v.add(path, "cannot be empty")
	case math.IsNaN(*p) || *p < 0 || *p > 100:
		v.add(path, "has to be in [0.0 - 100.0] range")
	}
}

// Validate checks a TrafficLog with Kuma's rules: sources must name a service, destinations
// only a service. The backend is checked against the mesh with the other resources; empty
// means the mesh's default backend.
func (l *TrafficLog) Validate() ErrorList {
	var v validator
	v.meta(&l.Meta)
	v.selectors("sources", l.Spec.Sources, false, sourceRules(true))
	v.selectors("destinations", l.Spec.Destinations, false, onlyServiceRules)
	return v.errs
}
