package podconv

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/meshgate/meshgate/kube/meta"
)

// podKind is what a pod is to the mesh.
type podKind int

const (
	kindNone podKind = iota
	kindBuiltin
	kindSidecar
	kindDelegated
)

// kindOf decides what the pod becomes. ok is false when the pod is in error (reported).
//
// A builtin gateway pod is recognised by its annotation alone, before membership, as in
// Kuma's pod controller: the MeshGatewayInstance controller labels its pods
// `kuma.io/sidecar-injection: disabled`, since they run the gateway, not a sidecar.
func (c *converter) kindOf(pod *corev1.Pod) (podKind, bool) {
	gw, hasGateway := pod.Annotations[meta.GatewayAnnotation]
	if gw == meta.GatewayBuiltin {
		return kindBuiltin, true
	}
	member, ok := c.member(pod)
	if !ok || !member {
		return kindNone, ok
	}
	if !hasGateway {
		return kindSidecar, true
	}
	if gw == gatewayDelegated {
		return kindDelegated, true
	}
	// Kuma's "provided" gateways are named after their Deployment with a tag other than
	// kuma.io/service, which meshgate's Dataplanes require.
	c.problem(pod, ReasonFailed, "invalid %s annotation %q: meshgate supports %q (builtin gateway) and %q (delegated gateway)",
		meta.GatewayAnnotation, gw, meta.GatewayBuiltin, gatewayDelegated)
	return kindNone, false
}

// member reports whether the pod is part of the mesh: the first `kuma.io/sidecar-injection`
// found, in Kuma's order (pod label, pod annotation, namespace label, namespace annotation),
// decides. ok is false when the value found is not one Kuma accepts (reported), or when only
// the unknown namespace could decide.
func (c *converter) member(pod *corev1.Pod) (member, ok bool) {
	ns := c.namespaces[pod.Namespace]
	sources := []labelSource{{"pod label", pod.Labels}, {"pod annotation", pod.Annotations}}
	if ns != nil {
		sources = append(sources, labelSource{"namespace label", ns.Labels}, labelSource{"namespace annotation", ns.Annotations})
	}
	for _, s := range sources {
		v, found := s.values[meta.SidecarInjection]
		if !found {
			continue
		}
		enabled, valid := parseEnabled(v)
		if !valid {
			c.problem(pod, ReasonFailed, "%s %s has the value %q; Kuma accepts enabled, disabled, true or false",
				s.where, meta.SidecarInjection, v)
			return false, false
		}
		return enabled, true
	}
	// Without its namespace nothing decides: skip quietly, as the namespace informer may just
	// be behind; the pod is converted again once it has caught up.
	return false, ns != nil
}

// labelSource is a map of labels or annotations, and how a message names it.
type labelSource struct {
	where  string
	values map[string]string
}

// parseEnabled reads a Kuma boolean annotation: enabled/true or disabled/false.
func parseEnabled(v string) (enabled, valid bool) {
	switch v {
	case annotationEnabled, annotationTrue:
		return true, true
	case annotationDisabled, annotationFalse:
		return false, true
	}
	return false, false
}

// meshOf is the pod's mesh, found as Kuma finds it: the pod's `kuma.io/mesh` label, then its
// annotation, then the namespace's label and annotation, else the default mesh.
func (c *converter) meshOf(pod *corev1.Pod) (string, bool) {
	if m := firstSet(meta.MeshAnnotation, pod.Labels, pod.Annotations); m != "" {
		return m, true
	}
	ns := c.namespaces[pod.Namespace]
	if ns == nil {
		c.problem(pod, ReasonFailed, "namespace %s is unknown, so is the pod's mesh (it sets no %s itself)",
			pod.Namespace, meta.MeshAnnotation)
		return "", false
	}
	if m := firstSet(meta.MeshAnnotation, ns.Labels, ns.Annotations); m != "" {
		return m, true
	}
	return meta.DefaultMesh, true
}

// firstSet is key's first non-empty value in maps.
func firstSet(key string, maps ...map[string]string) string {
	for _, m := range maps {
		if v := m[key]; v != "" {
			return v
		}
	}
	return ""
}
