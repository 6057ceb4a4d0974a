package build

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
)

// inboundFaults are the FaultInjections whose destinations select an HTTP inbound, one fault
// per source selector (Envoy's fault filter matches one header set), in policy name order.
// Sources are recognised by the x-kuma-tags header their outbound sets, as in Kuma; `*`
// values match any caller, with or without the header.
func (b *builder) inboundFaults(tags map[string]string) []ir.Fault {
	var out []ir.Fault
	for _, fi := range model.PoliciesOf[*api.FaultInjection](b.mesh, api.KindFaultInjection) {
		if _, ok := model.BestMatch(fi.DestinationSelectors(), tags); !ok || fi.Spec.Conf == nil {
			continue
		}
		base, ok := b.fault(fi)
		if !ok {
			continue
		}
		for _, src := range fi.SourceSelectors() {
			f := base
			f.SourceTags = map[string]string{}
			for k, v := range src {
				if v != "*" {
					f.SourceTags[k] = v
				}
			}
			out = append(out, f)
		}
	}
	return out
}

// fault converts the policy's conf; a value that does not parse (validation rejects it, a
// stored resource might still carry it) costs only this policy.
func (b *builder) fault(fi *api.FaultInjection) (ir.Fault, bool) {
	c := fi.Spec.Conf
	f := ir.Fault{Name: fi.Name}
	pct := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	if c.Delay != nil {
		d, err := c.Delay.Duration()
		if err != nil {
			b.diag(&fi.Meta, "conf.delay.value", "%v; policy not applied", err)
			return f, false
		}
		f.Delay = &ir.FaultDelay{Percent: pct(c.Delay.Percentage), Value: d}
	}
	if c.Abort != nil && c.Abort.HTTPStatus != nil {
		f.Abort = &ir.FaultAbort{Percent: pct(c.Abort.Percentage), HTTPStatus: *c.Abort.HTTPStatus}
	}
	if c.ResponseBandwidth != nil {
		kib, err := c.ResponseBandwidth.LimitKiBps()
		if err != nil {
			b.diag(&fi.Meta, "conf.responseBandwidth.limit", "%v; policy not applied", err)
			return f, false
		}
		f.ResponseBandwidth = &ir.FaultBandwidth{Percent: pct(c.ResponseBandwidth.Percentage), LimitKbps: kib}
	}
	if f.Delay == nil && f.Abort == nil && f.ResponseBandwidth == nil {
		return f, false
	}
	return f, true
}
