package podconv

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/meta"
)

// inbounds are the pod's inbounds: one per TCP port of every Service of its namespace that
// selects it, in order of Service name then service port number; a pod no Service selects gets Kuma's
// serviceless inbound, so it still has an identity. For a delegated gateway the protocol tag
// is kept only when it is tcp, as in Kuma: a gateway's tags may carry no other.
func (c *converter) inbounds(pod *corev1.Pod, delegated bool) []api.Inbound {
	type keyed struct {
		svc  string
		port int32
		in   api.Inbound
	}
	var list []keyed
	for _, svc := range c.services[pod.Namespace] {
		if !selects(svc, pod) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue // Envoy's inbounds here are TCP listeners; UDP and SCTP pass by.
			}
			port, container, ok := targetPort(pod, sp)
			if !ok {
				// Kuma skips a port the pod does not have (a named targetPort none of its
				// containers declares): the Service may select other kinds of pods too.
				continue
			}
			tags := labelTags(pod)
			tags[meta.NamespaceTag] = pod.Namespace
			tags[meta.ServiceNameTag] = svc.Name
			tags[meta.ServicePortTag] = strconv.Itoa(int(sp.Port))
			tags[meta.ServiceTag] = fmt.Sprintf("%s_%s_svc_%d", svc.Name, svc.Namespace, sp.Port)
			if p := c.protocolOf(pod, svc, sp); !delegated || p == "tcp" {
				tags[meta.ProtocolTag] = p
			}
			if svc.Spec.ClusterIP == corev1.ClusterIPNone {
				tags[instanceTag] = pod.Name
			}
			in := api.Inbound{Port: uint32(port), Tags: tags, Health: &api.Health{Ready: ready(pod, container)}}
			list = append(list, keyed{svc.Name, sp.Port, in})
		}
	}
	if len(list) == 0 {
		return []api.Inbound{serviceless(pod)}
	}
	slices.SortStableFunc(list, func(a, b keyed) int {
		return cmp.Or(strings.Compare(a.svc, b.svc), cmp.Compare(a.port, b.port))
	})
	out := make([]api.Inbound, len(list))
	for i, k := range list {
		out[i] = k.in
	}
	return out
}

// selects reports whether svc sends its traffic to pod, as Kuma decides it: a Service of the
// pod's namespace whose non-empty selector matches the pod's labels, neither of type
// ExternalName (which has no endpoints, whatever its selector) nor annotated
// `kuma.io/ignore: true`. A Service without a selector has endpoints managed by someone
// else; counting it would give every pod of the namespace its ports.
func selects(svc *corev1.Service, pod *corev1.Pod) bool {
	if svc.Namespace != pod.Namespace || svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
		return false
	}
	if ignored, _ := parseEnabled(svc.Annotations[ignoreAnnotation]); ignored {
		return false
	}
	for k, v := range svc.Spec.Selector {
		if got, ok := pod.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// targetPort is the pod port a Service port sends to, resolved as Kubernetes and Kuma do: a
// name is looked up among the containers' ports of the same protocol (not found: ok is
// false); a number is used as it is, declared by a container or not, since containers need not
// declare what they listen on; unset means the service port (the API server fills it in
// so; objects built by hand may lack it). container is the one declaring the port, if any.
func targetPort(pod *corev1.Pod, sp corev1.ServicePort) (port int32, container *corev1.Container, ok bool) {
	proto := protocolOrTCP(sp.Protocol)
	tp := sp.TargetPort
	if tp.Type == intstr.String && tp.StrVal != "" {
		for i := range pod.Spec.Containers {
			for _, cp := range pod.Spec.Containers[i].Ports {
				if cp.Name == tp.StrVal && protocolOrTCP(cp.Protocol) == proto {
					return cp.ContainerPort, &pod.Spec.Containers[i], true
				}
			}
		}
		return 0, nil, false
	}
	port = tp.IntVal
	if tp.Type == intstr.String || port == 0 {
		port = sp.Port
	}
	for i := range pod.Spec.Containers {
		for _, cp := range pod.Spec.Containers[i].Ports {
			if cp.ContainerPort == port && protocolOrTCP(cp.Protocol) == proto {
				return port, &pod.Spec.Containers[i], true
			}
		}
	}
	return port, nil, port > 0 && port <= 65535
}

func protocolOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// knownProtocols are the kuma.io/protocol values meshgate's Dataplane validation accepts.
var knownProtocols = []string{"grpc", "http", "http2", "kafka", "tcp"}

// protocolOf is an inbound's kuma.io/protocol, in Kuma's order: the port's appProtocol when
// it is one Kuma knows (others, such as `kubernetes.io/h2c`, are ignored), else the Service's
// `<port>.service.kuma.io/protocol` annotation, else tcp. An annotation naming an unknown
// protocol gives tcp, with a warning: Kuma would keep the value, which meshgate's validation
// refuses, costing the pod its Dataplane over one port's typo.
func (c *converter) protocolOf(pod *corev1.Pod, svc *corev1.Service, sp corev1.ServicePort) string {
	if sp.AppProtocol != nil {
		if p := strings.ToLower(*sp.AppProtocol); slices.Contains(knownProtocols, p) {
			return p
		}
	}
	key := strconv.Itoa(int(sp.Port)) + serviceProtocolSuffix
	v := strings.ToLower(svc.Annotations[key])
	if v == "" {
		return "tcp"
	}
	if !slices.Contains(knownProtocols, v) {
		c.problem(pod, ReasonUnknownProtocol, "Service %s annotation %s has the value %q, not one of %s; port %d is treated as tcp",
			svc.Name, key, svc.Annotations[key], strings.Join(knownProtocols, ", "), sp.Port)
		return "tcp"
	}
	return v
}

// ready reports whether the inbound served by container (nil: unknown, so every container
// counts) may receive traffic, as Kuma decides it: no container concerned reports itself not
// ready, and the pod is not terminating. A pod without container statuses yet counts as
// ready, as in Kuma.
func ready(pod *corev1.Pod, container *corev1.Container) bool {
	if pod.DeletionTimestamp != nil {
		return false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if (container == nil || cs.Name == container.Name) && !cs.Ready {
			return false
		}
	}
	return true
}

// serviceless is Kuma's inbound for a pod no Service selects: on the reserved port, named
// after the pod's workload (`<workload>_<namespace>_svc`).
func serviceless(pod *corev1.Pod) api.Inbound {
	tags := labelTags(pod)
	tags[meta.NamespaceTag] = pod.Namespace
	tags[meta.ServiceTag] = fmt.Sprintf("%s_%s_svc", workloadName(pod.Name), pod.Namespace)
	tags[meta.ProtocolTag] = "tcp"
	tags[instanceTag] = pod.Name
	return api.Inbound{Port: servicelessPort, Tags: tags, Health: &api.Health{Ready: ready(pod, nil)}}
}

// workloadName is the Deployment or CronJob a pod's name says it belongs to: Kubernetes names
// their pods `<workload>-<hash>-<suffix>`. Kuma looks the owner up through the ReplicaSet or
// Job, and falls back to this for every other pod; for Deployments and CronJobs the two agree.
func workloadName(pod string) string {
	parts := strings.Split(pod, "-")
	if len(parts) > 2 {
		parts = parts[:len(parts)-2]
	}
	return strings.Join(parts, "-")
}

// Tag characters meshgate's validation accepts (Kuma's). Kubernetes label keys and values
// always fit; the check keeps a Dataplane valid should that ever change.
var (
	tagName  = regexp.MustCompile(`^[a-zA-Z0-9.\-_:/]+$`)
	tagValue = regexp.MustCompile(`^[a-zA-Z0-9.\-_:]+$`)
)

// labelTags are the pod's labels as inbound tags, as in Kuma: empty values are left out, and
// so are Kuma's own labels (any key with `kuma.io/`), which would clash with the tags the
// inbound gets from its Service.
func labelTags(pod *corev1.Pod) map[string]string {
	tags := make(map[string]string, len(pod.Labels)+6)
	for k, v := range pod.Labels {
		if v == "" || strings.Contains(k, "kuma.io/") || !tagName.MatchString(k) || !tagValue.MatchString(v) {
			continue
		}
		tags[k] = v
	}
	return tags
}
