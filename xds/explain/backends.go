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
	e.describeCluster(c, &b)
	e.describeClusterPolicies(c, &b)
	e.noteRemoteZones(c, &b)
	n, known, noCLA := e.healthyEndpoints(c)
	if !known {
		return b
	}
	b.Endpoints = &n
	if n > 0 {
		return b
	}
	why := "has no healthy endpoints"
	if noCLA {
		why = "has no ClusterLoadAssignment among the resources, so no endpoints"
	}
	if notFound != 0 {
		e.out.note("cluster %q %s: Envoy answers 503 (no healthy upstream)", name, why)
	} else {
		e.out.note("cluster %q %s: Envoy closes connections sent to it", name, why)
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
// resources cannot say (DNS resolution, original destination, custom cluster types). An EDS
// cluster whose assignment is missing ends up with none once Envoy stops waiting for it.
func (e *explainer) healthyEndpoints(c *clusterv3.Cluster) (n int, known, noCLA bool) {
	if c.GetClusterType() != nil {
		return 0, false, false
	}
	switch c.GetType() {
	case clusterv3.Cluster_STATIC:
		return countHealthy(c.GetLoadAssignment()), true, false
	case clusterv3.Cluster_EDS:
		if cla := e.loadAssignment(c); cla != nil {
			return countHealthy(cla), true, false
		}
		return 0, true, true
	}
	return 0, false, false
}

func (e *explainer) loadAssignment(c *clusterv3.Cluster) *endpointv3.ClusterLoadAssignment {
	svc := c.GetEdsClusterConfig().GetServiceName()
	if svc == "" {
		svc = c.GetName()
	}
	for _, cla := range e.res.Endpoints {
		if cla != nil && cla.GetClusterName() == svc {
			return cla
		}
	}
	return nil
}

func countHealthy(cla *endpointv3.ClusterLoadAssignment) int {
	n := 0
	for _, loc := range cla.GetEndpoints() {
		for _, ep := range loc.GetLbEndpoints() {
			if healthy(ep) {
				n++
			}
		}
	}
	return n
}

func healthy(ep *endpointv3.LbEndpoint) bool {
	switch ep.GetHealthStatus() {
	case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY, corev3.HealthStatus_DEGRADED:
		return true
	}
	return false
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
		add(e.loadAssignment(c), false)
	default:
		add(c.GetLoadAssignment(), false)
	}
	return out
}
