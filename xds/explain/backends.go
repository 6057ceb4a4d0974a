package explain

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/meshgate/meshgate/xds/names"
)

// backend describes cluster `name` as a forward target. notFound is the HTTP status Envoy sends
// when no such cluster exists; 0 for TCP, where Envoy closes the connection instead.
func (e *explainer) backend(name string, weight, notFound uint32) Backend {
	b := Backend{Cluster: name, Weight: weight}
	c := e.cluster(name)
	if c == nil {
		b.Missing = true
		if notFound != 0 {
			b.Status = int(notFound)
			e.out.note("cluster %q does not exist: Envoy answers %d to requests sent to it", name, notFound)
		} else {
			e.out.note("cluster %q does not exist: Envoy closes connections sent to it", name)
		}
		return b
	}
	if md := c.GetMetadata().GetFilterMetadata()[names.MetadataNamespace]; md != nil {
		b.Service = md.GetFields()["service"].GetStringValue()
		if d := md.GetFields()["destination"].GetStructValue(); d != nil && len(d.GetFields()) > 0 {
			b.Destination = map[string]string{}
			for k, v := range d.GetFields() {
				b.Destination[k] = v.GetStringValue()
			}
		}
	}
	if n, known := e.healthyEndpoints(c); known {
		b.Endpoints = &n
		if n == 0 {
			if notFound != 0 {
				e.out.note("cluster %q has no healthy endpoints: Envoy answers 503 (no healthy upstream)", name)
			} else {
				e.out.note("cluster %q has no healthy endpoints: Envoy closes connections sent to it", name)
			}
		}
	}
	return b
}

func (e *explainer) cluster(name string) *clusterv3.Cluster {
	if name == "" {
		return nil
	}
	for _, c := range e.res.Clusters {
		if c != nil && c.GetName() == name {
			return c
		}
	}
	return nil
}

// healthyEndpoints counts the endpoints Envoy would balance over; known is false where the
// resources cannot say (DNS resolution, original destination, custom cluster types).
func (e *explainer) healthyEndpoints(c *clusterv3.Cluster) (n int, known bool) {
	if c.GetClusterType() != nil {
		return 0, false
	}
	switch c.GetType() {
	case clusterv3.Cluster_STATIC:
		return countHealthy(c.GetLoadAssignment()), true
	case clusterv3.Cluster_EDS:
		svc := c.GetEdsClusterConfig().GetServiceName()
		if svc == "" {
			svc = c.GetName()
		}
		for _, cla := range e.res.Endpoints {
			if cla != nil && cla.GetClusterName() == svc {
				return countHealthy(cla), true
			}
		}
		e.out.note("cluster %q has no ClusterLoadAssignment %q, so Envoy knows no endpoints for it", c.GetName(), svc)
		return 0, true
	}
	return 0, false
}

func countHealthy(cla *endpointv3.ClusterLoadAssignment) int {
	n := 0
	for _, loc := range cla.GetEndpoints() {
		for _, ep := range loc.GetLbEndpoints() {
			switch ep.GetHealthStatus() {
			case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY, corev3.HealthStatus_DEGRADED:
				n++
			}
		}
	}
	return n
}

// endpointHostnames lists the distinct hostnames auto_host_rewrite could take from c.
func (e *explainer) endpointHostnames(c *clusterv3.Cluster) map[string]bool {
	out := map[string]bool{}
	add := func(cla *endpointv3.ClusterLoadAssignment, dns bool) {
		for _, loc := range cla.GetEndpoints() {
			for _, ep := range loc.GetLbEndpoints() {
				if h := ep.GetEndpoint().GetHostname(); h != "" {
					out[h] = true
				} else if dns {
					if a := ep.GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); a != "" {
						out[a] = true
					}
				}
			}
		}
	}
	switch c.GetType() {
	case clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_LOGICAL_DNS:
		add(c.GetLoadAssignment(), true)
	case clusterv3.Cluster_EDS:
		svc := c.GetEdsClusterConfig().GetServiceName()
		if svc == "" {
			svc = c.GetName()
		}
		for _, cla := range e.res.Endpoints {
			if cla != nil && cla.GetClusterName() == svc {
				add(cla, false)
			}
		}
	default:
		add(c.GetLoadAssignment(), false)
	}
	return out
}
