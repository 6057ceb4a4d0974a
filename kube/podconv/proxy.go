package podconv

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// proxyOptions sets what a sidecar or delegated gateway pod's proxy needs beyond its
// inbounds: transparent proxying, which Kuma always uses on Kubernetes (its injector installs
// the iptables rules in every pod it injects), and the Envoy admin port. The redirect ports
// and IP families are those of the injector's annotations when present, since they describe
// the rules actually installed in the pod, else the injector's defaults.
func (c *converter) proxyOptions(pod *corev1.Pod, n *api.Networking) bool {
	tp := &api.TransparentProxying{
		RedirectPortInbound:  defaultInboundRedirectPort,
		RedirectPortOutbound: defaultOutboundRedirectPort,
		IPFamilyMode:         api.IPFamilyDualStack,
	}
	ok := c.portAnnotation(pod, inboundRedirectPortAnnotation, &tp.RedirectPortInbound) &&
		c.portAnnotation(pod, outboundRedirectPortAnnotation, &tp.RedirectPortOutbound)
	if !ok {
		return false
	}
	if v, found := pod.Annotations[ipFamilyModeAnnotation]; found {
		switch strings.ToLower(v) {
		case "dualstack":
			tp.IPFamilyMode = api.IPFamilyDualStack
		case "ipv4":
			tp.IPFamilyMode = api.IPFamilyIPv4
		default:
			c.problem(pod, ReasonFailed, "annotation %s has the value %q; Kuma accepts dualstack or ipv4", ipFamilyModeAnnotation, v)
			return false
		}
	}
	n.TransparentProxying = tp
	var admin uint32
	if _, found := pod.Annotations[envoyAdminPortAnnotation]; found {
		if !c.portAnnotation(pod, envoyAdminPortAnnotation, &admin) {
			return false
		}
		n.Admin = &api.Admin{Port: admin}
	}
	return true
}

// portAnnotation reads a port from annotation key into port, leaving it alone when the
// annotation is absent. It reports a value that is not a port.
func (c *converter) portAnnotation(pod *corev1.Pod, key string, port *uint32) bool {
	v, found := pod.Annotations[key]
	if !found {
		return true
	}
	p, err := strconv.ParseUint(v, 10, 16)
	if err != nil || p == 0 {
		c.problem(pod, ReasonFailed, "annotation %s has the value %q; it must be a port, 1 to 65535", key, v)
		return false
	}
	*port = uint32(p)
	return true
}
