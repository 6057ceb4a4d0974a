package gatewayinstance

import (
	"slices"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// gatewayList is a Gateways whose content the test sets, as a zone's store would after a
// sync from global.
type gatewayList struct {
	mu      sync.Mutex
	list    []*api.MeshGateway
	changed chan struct{}
}

func (g *gatewayList) Gateways() []*api.MeshGateway {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.list)
}

func (g *gatewayList) Changed() <-chan struct{} { return g.changed }

func (g *gatewayList) set(list ...*api.MeshGateway) {
	g.mu.Lock()
	g.list = list
	g.mu.Unlock()
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

func listenerGateway(name, service string, ports ...uint32) *api.MeshGateway {
	gw := &api.MeshGateway{Meta: api.Meta{Kind: api.KindMeshGateway, Mesh: "default", Name: name},
		Spec: api.MeshGatewaySpec{Selectors: []api.Selector{{Match: map[string]string{api.ServiceTag: service}}},
			Conf: &api.MeshGatewayConf{}}}
	for _, p := range ports {
		gw.Spec.Conf.Listeners = append(gw.Spec.Conf.Listeners, api.Listener{Port: p, Protocol: api.ProtocolHTTP})
	}
	return gw
}

// TestGatewaysFromElsewhere: with Options.Gateways (a Kubernetes zone, where MeshGateways come
// from global) the controller ignores the cluster's MeshGateway objects and serves the
// instance once Gateways holds one selecting it, following its listeners when it changes.
func TestGatewaysFromElsewhere(t *testing.T) {
	gws := &gatewayList{changed: make(chan struct{}, 1)}
	e := newEnv(t, func(o *Options) { o.Gateways = gws })
	suffix := randomSuffix()
	service := "edge-gateway-" + suffix
	const name = "edge-gateway"

	// A MeshGateway object in the zone's cluster selecting the instance is not global's: the
	// instance keeps waiting.
	e.createGateway(seedGateway("cluster-"+suffix, service, ""))
	e.createInstance(seedInstance(service))
	e.waitReady(name, "False", ReasonNoMeshGateway)
	e.requireAbsent(name)

	gws.set(listenerGateway("other-"+suffix, "other-"+suffix, 80), listenerGateway("edge-"+suffix, service, 8080))
	e.waitReady(name, "True", ReasonReady)
	e.waitDeployment(name, func(d *appsv1.Deployment) bool { return slices.Equal(containerPorts(d), []int32{8080}) })
	e.waitService(name, func(s *corev1.Service) bool { return slices.Equal(servicePorts(s), []int32{8080}) })

	gws.set(listenerGateway("edge-"+suffix, service, 8080, 9090))
	e.waitService(name, func(s *corev1.Service) bool { return slices.Equal(servicePorts(s), []int32{8080, 9090}) })
}
