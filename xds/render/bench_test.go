package render_test

import (
	"fmt"
	"testing"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

// benchModel is one HTTP gateway with `routes` MeshGatewayRoutes spread over `hosts` hostnames,
// each forwarding a path prefix to one of 50 services with two endpoints each.
func benchModel(b *testing.B, routes, hosts int) *model.Model {
	b.Helper()
	const services = 50
	objs := []api.Object{
		&api.Dataplane{Meta: api.Meta{Kind: api.KindDataplane, Mesh: "default", Name: "gw"},
			Spec: api.DataplaneSpec{Networking: api.Networking{Address: "10.0.0.1",
				Gateway: &api.DataplaneGateway{Type: api.GatewayBuiltin, Tags: map[string]string{"kuma.io/service": "gw"}}}}},
		&api.MeshGateway{Meta: api.Meta{Kind: api.KindMeshGateway, Mesh: "default", Name: "gw"},
			Spec: api.MeshGatewaySpec{
				Selectors: []api.Selector{{Match: map[string]string{"kuma.io/service": "gw"}}},
				Conf:      &api.MeshGatewayConf{Listeners: []api.Listener{{Port: 8080, Protocol: api.ProtocolHTTP}}},
			}},
	}
	for s := 0; s < services; s++ {
		for e := 0; e < 2; e++ {
			objs = append(objs, &api.Dataplane{
				Meta: api.Meta{Kind: api.KindDataplane, Mesh: "default", Name: fmt.Sprintf("svc-%d-%d", s, e)},
				Spec: api.DataplaneSpec{Networking: api.Networking{Address: fmt.Sprintf("10.1.%d.%d", s, e+1),
					Inbound: []api.Inbound{{Port: 8080, Tags: map[string]string{"kuma.io/service": fmt.Sprintf("svc-%d", s)}}}}},
			})
		}
	}
	for i := 0; i < routes; i++ {
		objs = append(objs, &api.MeshGatewayRoute{
			Meta: api.Meta{Kind: api.KindMeshGatewayRoute, Mesh: "default", Name: fmt.Sprintf("route-%05d", i)},
			Spec: api.MeshGatewayRouteSpec{
				Selectors: []api.Selector{{Match: map[string]string{"kuma.io/service": "gw"}}},
				Conf: &api.RouteConf{HTTP: &api.HTTPRoute{
					Hostnames: []string{fmt.Sprintf("host-%d.example.com", i%hosts)},
					Rules: []api.HTTPRule{{
						Matches:  []api.HTTPMatch{{Path: &api.PathMatch{Match: api.PathPrefix, Value: fmt.Sprintf("/api/v%d", i)}}},
						Backends: []api.Backend{{Destination: map[string]string{"kuma.io/service": fmt.Sprintf("svc-%d", i%services)}}},
					}},
				}},
			},
		})
	}
	m, errs := model.Build(objs)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	return m
}

// BenchmarkRenderGateway measures the whole path a configuration change takes for one gateway:
// build the IR, translate to Envoy, validate every resource and assemble the snapshot.
func BenchmarkRenderGateway(b *testing.B) {
	for _, routes := range []int{10, 100, 1000, 10000} {
		for _, hosts := range []int{1, 10, 100} {
			if hosts > routes {
				continue
			}
			b.Run(fmt.Sprintf("routes=%d/hosts=%d", routes, hosts), func(b *testing.B) {
				m := benchModel(b, routes, hosts)
				opts := build.DefaultOptions()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := render.Dataplane(m, "default", "gw", opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
