package snapshot

import (
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/translate"
)

var typeURLs = []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType, resource.SecretType}

func proxy() *ir.Proxy {
	return &ir.Proxy{
		Node: "default.gw",
		Listeners: []ir.Listener{{
			Name: "gw:HTTPS:8443", Address: "0.0.0.0", Port: 8443, Protocol: ir.HTTPS,
			FilterChains: []ir.FilterChain{{
				Name: "gw:HTTPS:8443:*", TransportProtocolTLS: true,
				TLS: &ir.DownstreamTLS{CertificateSecrets: []string{"cert"}},
				HTTP: &ir.HTTPConnectionManager{StatPrefix: "gw", RouteConfig: ir.RouteConfig{
					Name: "gw:HTTPS:8443:*",
					VirtualHosts: []ir.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: []ir.Route{{
						Name: "r", Match: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}},
						Forward: &ir.Forward{Clusters: []ir.WeightedCluster{{Name: "api", Weight: 1}, {Name: "web", Weight: 1}}},
					}}}},
				}},
			}},
		}},
		Clusters: []ir.Cluster{
			{Name: "api", Service: "api", Protocol: ir.ClusterHTTP, Destination: map[string]string{"kuma.io/service": "api", "a": "1", "b": "2", "c": "3"},
				Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 80, Tags: map[string]string{"kuma.io/service": "api", "x": "1", "y": "2", "z": "3"}}}},
			{Name: "web", Service: "web", Protocol: ir.ClusterHTTP2},
		},
		Secrets: []ir.Secret{{Name: "cert", CertificateChain: "chain", PrivateKey: "key"}},
	}
}

func translated(t *testing.T, p *ir.Proxy) *envoyres.Resources {
	t.Helper()
	res, err := translate.Translate(p)
	require.NoError(t, err)
	return res
}

func versions(s *cache.Snapshot) map[string]string {
	out := map[string]string{}
	for _, u := range typeURLs {
		out[u] = s.GetVersion(u)
	}
	return out
}

func TestNewBuildsConsistentSnapshot(t *testing.T) {
	snap, err := New(translated(t, proxy()))
	require.NoError(t, err)
	require.NoError(t, snap.Consistent())

	assert.Len(t, snap.GetResources(resource.ListenerType), 1)
	assert.Contains(t, snap.GetResources(resource.RouteType), "gw:HTTPS:8443:*")
	assert.Len(t, snap.GetResources(resource.ClusterType), 2)
	assert.Contains(t, snap.GetResources(resource.EndpointType), "web", "empty assignment still published")
	assert.Contains(t, snap.GetResources(resource.SecretType), "cert")
	for u, v := range versions(snap) {
		assert.Len(t, v, 16, u)
	}
}

func TestNewEmptyResourcesSetsEveryType(t *testing.T) {
	snap, err := New(&envoyres.Resources{})
	require.NoError(t, err)
	for _, u := range typeURLs {
		assert.NotNil(t, snap.GetResources(u), u)
		assert.NotEmpty(t, snap.GetVersion(u), u)
	}
}

func TestVersionsAreStableAcrossRebuilds(t *testing.T) {
	first, err := New(translated(t, proxy()))
	require.NoError(t, err)
	// Maps in tags and metadata make marshalling order-sensitive unless deterministic; many
	// rebuilds give Go's map iteration a chance to differ.
	for range 20 {
		again, err := New(translated(t, proxy()))
		require.NoError(t, err)
		assert.Equal(t, versions(first), versions(again))
	}
}

func TestVersionIgnoresSliceOrder(t *testing.T) {
	res := translated(t, proxy())
	first, err := New(res)
	require.NoError(t, err)
	slices.Reverse(res.Clusters)
	slices.Reverse(res.Endpoints)
	again, err := New(res)
	require.NoError(t, err)
	assert.Equal(t, versions(first), versions(again))
}

func TestVersionChangesOnlyForChangedType(t *testing.T) {
	base, err := New(translated(t, proxy()))
	require.NoError(t, err)

	cases := []struct {
		name    string
		mutate  func(p *ir.Proxy)
		changed []string
	}{
		{"endpoint added", func(p *ir.Proxy) {
			p.Clusters[1].Endpoints = []ir.Endpoint{{Address: "10.0.0.2", Port: 80}}
		}, []string{resource.EndpointType}},
		{"route timeout", func(p *ir.Proxy) {
			p.Listeners[0].FilterChains[0].HTTP.RouteConfig.VirtualHosts[0].Routes[0].Forward.Timeout = 1e9
		}, []string{resource.RouteType}},
		{"cluster protocol", func(p *ir.Proxy) { p.Clusters[1].Protocol = ir.ClusterHTTP }, []string{resource.ClusterType}},
		{"secret rotated", func(p *ir.Proxy) { p.Secrets[0].PrivateKey = "key2" }, []string{resource.SecretType}},
		{"listener limit", func(p *ir.Proxy) { p.Listeners[0].ConnectionLimit = 10 }, []string{resource.ListenerType}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := proxy()
			c.mutate(p)
			snap, err := New(translated(t, p))
			require.NoError(t, err)
			for _, u := range typeURLs {
				if slices.Contains(c.changed, u) {
					assert.NotEqual(t, base.GetVersion(u), snap.GetVersion(u), u)
				} else {
					assert.Equal(t, base.GetVersion(u), snap.GetVersion(u), u)
				}
			}
		})
	}
}

// go-control-plane v0.14.0's Consistent() checks that the EDS names the clusters reference and
// the RDS names the listeners reference are exactly the assignments and route configurations
// present: none missing and none left over.
func TestNewRejectsInconsistentSnapshot(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r *envoyres.Resources)
		want   string
	}{
		{"route configuration no listener references", func(r *envoyres.Resources) {
			r.Routes = append(r.Routes, &routev3.RouteConfiguration{Name: "orphan"})
		}, "RouteConfiguration"},
		{"listener references missing route configuration", func(r *envoyres.Resources) {
			r.Routes = nil
		}, "RouteConfiguration"},
		{"cluster without assignment", func(r *envoyres.Resources) {
			r.Endpoints = r.Endpoints[:1]
		}, "ClusterLoadAssignment"},
		{"assignment without cluster", func(r *envoyres.Resources) {
			r.Endpoints = append(r.Endpoints, &endpointv3.ClusterLoadAssignment{ClusterName: "ghost"})
		}, "ClusterLoadAssignment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := translated(t, proxy())
			c.mutate(res)
			_, err := New(res)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "inconsistent snapshot")
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestNewRejectsInvalidResources(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r *envoyres.Resources)
		want   string
	}{
		{"fails ValidateAll", func(r *envoyres.Resources) {
			r.Routes[0].VirtualHosts[0].Domains = nil
		}, `route configuration 0 "gw:HTTPS:8443:*"`},
		{"duplicate name", func(r *envoyres.Resources) {
			r.Secrets = append(r.Secrets, r.Secrets[0])
		}, `secret "cert": duplicate name`},
		{"nil resource", func(r *envoyres.Resources) {
			r.Clusters = append(r.Clusters, nil)
		}, "cluster 2"},
		{"unnamed resource", func(r *envoyres.Resources) {
			r.Endpoints[0].ClusterName = ""
		}, "resource has no name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := translated(t, proxy())
			c.mutate(res)
			_, err := New(res)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	_, err := New(nil)
	require.Error(t, err)
}
