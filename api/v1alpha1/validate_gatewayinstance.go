package v1alpha1

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
)

// quantityPattern is Kubernetes' resource.Quantity syntax, the pattern its CRDs carry.
var quantityPattern = regexp.MustCompile(`^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`)

// QuantityPattern is quantityPattern's source, for the CRD schema generator.
func QuantityPattern() string { return quantityPattern.String() }

// Validate checks a MeshGatewayInstance with Kuma's CRD rules (replicas ≥ 1, the Service types)
// plus what the managed Deployment and Service would otherwise be refused for by the API server.
func (g *MeshGatewayInstance) Validate() ErrorList {
	var v validator
	v.meta(&g.Meta)
	s := &g.Spec
	if s.Replicas != nil && *s.Replicas < 1 {
		v.add("replicas", "must be at least 1")
	}
	// The seed matches an instance to its MeshGateway by the kuma.io/service tag.
	v.tags("tags", s.Tags, tagRules{requireService: true})
	if s.Resources != nil {
		v.quantities("resources.limits", s.Resources.Limits)
		v.quantities("resources.requests", s.Resources.Requests)
	}
	if t := s.ServiceTemplate; t != nil && t.Spec != nil && t.Spec.LoadBalancerIP != "" {
		if _, err := netip.ParseAddr(t.Spec.LoadBalancerIP); err != nil {
			v.add("serviceTemplate.spec.loadBalancerIP", "must be an IP address")
		}
	}
	if t := s.PodTemplate; t != nil && t.Spec != nil {
		if n := t.Spec.ServiceAccountName; n != "" && (len(n) > 253 || !dnsLabels.MatchString(n)) {
			v.add("podTemplate.spec.serviceAccountName", nameCharsetMsg)
		}
		if sc := t.Spec.SecurityContext; sc != nil && sc.FSGroup != nil && *sc.FSGroup < 0 {
			v.add("podTemplate.spec.securityContext.fsGroup", "must not be negative")
		}
	}
	return v.errs
}

func (v *validator) quantities(path string, q map[string]Quantity) {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := joinKey(path, k)
		switch x := q[k].(type) {
		case string:
			if !quantityPattern.MatchString(x) {
				v.addf(p, "invalid quantity %q", x)
			}
		case int64, uint64:
		case float64:
			// A YAML float such as `0.5` is a valid quantity; JSON has no other numbers.
			if !quantityPattern.MatchString(fmt.Sprint(x)) {
				v.addf(p, "invalid quantity %v", x)
			}
		default:
			v.add(p, "must be a number or a quantity string such as 128Mi")
		}
	}
}
