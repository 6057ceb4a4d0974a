// Package podconv turns Kubernetes pods into meshgate Dataplanes the way Kuma's pod
// controller does (pkg/plugins/runtime/k8s/controllers, Kuma 2.x): a pod annotated
// `kuma.io/gateway: builtin` becomes a builtin gateway; a pod of the mesh (sidecar injection
// enabled on it or its namespace) becomes a sidecar with one inbound per port of every Service
// that selects it, named `<service>_<namespace>_svc_<port>`, or a delegated gateway when
// annotated `kuma.io/gateway: enabled`.
//
// Convert is a pure function of the objects it is given: no client, no clock, and the same
// input always gives the same output, so the informer side can call it on every change and
// diff the result.
package podconv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Request is a snapshot of the cluster objects the conversion depends on. Pods whose
// namespace is missing from Namespaces are not converted (their mesh and membership depend on
// it). Services of every namespace may be passed; each pod only sees its own namespace's.
type Request struct {
	Pods       []*corev1.Pod
	Services   []*corev1.Service
	Namespaces []*corev1.Namespace
}

// Result is what the pods of a Request become.
type Result struct {
	// Dataplanes are sorted by mesh, then name; each has passed api.Dataplane.Validate.
	Dataplanes []*api.Dataplane
	// Problems are sorted by namespace and name, at most one per pod: a pod's Events are
	// deduplicated by pod, so two problems would alternate.
	Problems []Problem
}

// Problem is something wrong with one pod, meant to become a Warning Event on it.
type Problem struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
}

// Event reasons. ReasonFailed is Kuma's: the pod gets no Dataplane. The others are warnings
// about a Dataplane that was still produced.
const (
	ReasonFailed = "FailedToGenerateKumaDataplane"
	// ReasonUnknownProtocol: a `<port>.service.kuma.io/protocol` annotation names a protocol
	// meshgate does not know; the inbound falls back to tcp, which carries any protocol.
	ReasonUnknownProtocol = "UnknownServiceProtocol"
)

// Convert turns the pods of req into Dataplanes.
func Convert(req Request) Result {
	c := converter{
		namespaces: map[string]*corev1.Namespace{},
		services:   map[string][]*corev1.Service{},
	}
	for _, ns := range req.Namespaces {
		if ns != nil {
			c.namespaces[ns.Name] = ns
		}
	}
	for _, svc := range req.Services {
		if svc != nil {
			c.services[svc.Namespace] = append(c.services[svc.Namespace], svc)
		}
	}
	// Services are visited by name so that inbound order, and a delegated gateway's tags
	// (those of its first inbound), do not depend on informer order.
	for _, list := range c.services {
		slices.SortFunc(list, func(a, b *corev1.Service) int { return strings.Compare(a.Name, b.Name) })
	}
	for _, pod := range req.Pods {
		if pod != nil {
			c.pod(pod)
			c.flushProblems()
		}
	}
	slices.SortFunc(c.res.Dataplanes, func(a, b *api.Dataplane) int {
		return cmp.Or(strings.Compare(a.Mesh, b.Mesh), strings.Compare(a.Name, b.Name))
	})
	slices.SortFunc(c.res.Problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name),
			strings.Compare(a.Reason, b.Reason), strings.Compare(a.Message, b.Message))
	})
	return c.res
}

// DataplaneName is the name of the Dataplane of a pod: Kuma names resources of namespaced
// kinds `<name>.<namespace>` outside Kubernetes.
func DataplaneName(namespace, pod string) string { return pod + "." + namespace }

// PodOf reads DataplaneName back: a namespace has no dots, a pod name may.
func PodOf(dataplane string) (namespace, pod string, ok bool) {
	i := strings.LastIndexByte(dataplane, '.')
	if i <= 0 || i == len(dataplane)-1 {
		return "", "", false
	}
	return dataplane[i+1:], dataplane[:i], true
}

type converter struct {
	namespaces map[string]*corev1.Namespace
	services   map[string][]*corev1.Service
	res        Result
	// pending are the problems of the pod being converted.
	pending []Problem
}

func (c *converter) problem(pod *corev1.Pod, reason, format string, args ...any) {
	c.pending = append(c.pending, Problem{
		Namespace: pod.Namespace, Name: pod.Name, Reason: reason, Message: fmt.Sprintf(format, args...),
	})
}

// flushProblems makes the pod's problems one: the failure that cost it its Dataplane if there
// is one (warnings about a Dataplane that does not exist do not matter), else the warnings
// (all of the one warning reason there is) joined.
func (c *converter) flushProblems() {
	defer func() { c.pending = c.pending[:0] }()
	if len(c.pending) == 0 {
		return
	}
	for _, p := range c.pending {
		if p.Reason == ReasonFailed {
			c.res.Problems = append(c.res.Problems, p)
			return
		}
	}
	p := c.pending[0]
	for _, q := range c.pending[1:] {
		p.Message += "; " + q.Message
	}
	c.res.Problems = append(c.res.Problems, p)
}

// pod converts one pod, or reports why it cannot.
//
// Which pods are left out, and why:
//   - no status.podIP: not scheduled or not started yet; Kuma deletes the Dataplane then.
//   - phase Succeeded (a finished Job) as in Kuma, and phase Failed too, which includes
//     Kuma's other exclusion, evicted pods: a failed pod never runs again and the network
//     may give its IP to another pod, which must not receive the mesh's traffic for it.
//   - a pod being deleted (deletionTimestamp) is kept, as in Kuma: its proxy still needs its
//     configuration while it drains. Its inbounds are marked not ready, so no new traffic is
//     sent to it.
func (c *converter) pod(pod *corev1.Pod) {
	if pod.Status.PodIP == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return
	}
	kind, ok := c.kindOf(pod)
	if !ok || kind == kindNone {
		return
	}
	dp := &api.Dataplane{Meta: api.Meta{
		Kind:         api.KindDataplane,
		Name:         DataplaneName(pod.Namespace, pod.Name),
		CreationTime: pod.CreationTimestamp.Time,
	}}
	mesh, ok := c.meshOf(pod)
	if !ok {
		return
	}
	dp.Mesh = mesh
	dp.Spec.Networking.Address = pod.Status.PodIP
	switch kind {
	case kindBuiltin:
		tags, ok := c.builtinTags(pod)
		if !ok {
			return
		}
		dp.Spec.Networking.Gateway = &api.DataplaneGateway{Type: api.GatewayBuiltin, Tags: tags}
	case kindSidecar, kindDelegated:
		if !c.proxyOptions(pod, &dp.Spec.Networking) {
			return
		}
		inbounds := c.inbounds(pod, kind == kindDelegated)
		if kind == kindDelegated {
			// A delegated gateway is identified by the tags of its first inbound, as in
			// Kuma; the inbounds themselves are the proxy in front's business.
			dp.Spec.Networking.Gateway = &api.DataplaneGateway{Type: api.GatewayDelegated, Tags: inbounds[0].Tags}
		} else {
			dp.Spec.Networking.Inbound = inbounds
		}
	}
	if errs := dp.Validate(); len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		c.problem(pod, ReasonFailed, "Dataplane %s is invalid: %s", dp.Name, strings.Join(msgs, "; "))
		return
	}
	c.res.Dataplanes = append(c.res.Dataplanes, dp)
}
