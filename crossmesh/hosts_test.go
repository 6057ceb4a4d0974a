package crossmesh

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh/vip"
)

func externalService(mesh, name, service, address, extra string) string {
	s := "type: ExternalService\nmesh: " + mesh + "\nname: " + name +
		"\ntags: {kuma.io/service: " + service + "}\nnetworking: {address: \"" + address + "\""
	if extra != "" {
		s += ", " + extra
	}
	return s + "}\n"
}

func TestResolveHostNames(t *testing.T) {
	m := build(t,
		"type: Mesh\nname: a\n", mtlsMesh("b"),
		externalService("a", "httpbin", "httpbin", "HTTPBin.org.:443", ""),
		// Another port of the same host: the same VIP, its own entry.
		externalService("a", "httpbin-plain", "httpbin-plain", "httpbin.org:80", ""),
		externalService("a", "opted-out", "quiet", "quiet.example.com:443", "disableHostDNSEntry: true"),
		externalService("a", "by-ip", "by-ip", "192.0.2.1:443", ""),
		externalService("a", "by-ip6", "by-ip6", "[2001:db8::1]:443", ""),
		// The same host in another mesh: its own entry, its own VIP.
		externalService("b", "httpbin", "httpbin", "httpbin.org:443", ""),
	)
	table, problems := Resolve(m)
	require.Empty(t, problems)
	assert.Equal(t, []HostName{
		{Mesh: "a", Host: "httpbin.org", Service: "httpbin-plain", Port: 80},
		{Mesh: "a", Host: "httpbin.org", Service: "httpbin", Port: 443},
		{Mesh: "b", Host: "httpbin.org", Service: "httpbin", Port: 443},
	}, table.Hosts)
	assert.Equal(t, []vip.Key{
		{Mesh: "a", Name: "by-ip.mesh"}, {Mesh: "a", Name: "by-ip6.mesh"},
		{Mesh: "a", Name: "httpbin-plain.mesh"}, {Mesh: "a", Name: "httpbin.mesh"},
		{Mesh: "a", Name: "httpbin.org"}, {Mesh: "a", Name: "quiet.mesh"},
		{Mesh: "b", Name: "httpbin.mesh"}, {Mesh: "b", Name: "httpbin.org"},
	}, table.VIPKeys())
}

func TestResolveHostNameProblems(t *testing.T) {
	tests := []struct {
		name     string
		docs     []string
		hosts    []HostName
		problems []api.FieldError
	}{
		{
			name: "first ExternalService by name wins a host and port",
			docs: []string{
				externalService("default", "b-httpbin", "httpbin-b", "httpbin.org:443", ""),
				externalService("default", "a-httpbin", "httpbin-a", "httpbin.org:443", ""),
			},
			hosts: []HostName{{Mesh: "default", Host: "httpbin.org", Service: "httpbin-a", Port: 443}},
			problems: []api.FieldError{{
				Resource: "ExternalService default/b-httpbin", Field: "networking.address",
				Message: `host "httpbin.org" port 443 is already the entry of ExternalService default/a-httpbin`,
			}},
		},
		{
			name: "host equal to a service name",
			docs: []string{
				serviceDP("default", "web-1", "web"),
				externalService("default", "legacy", "legacy", "web.mesh:8080", ""),
			},
			problems: []api.FieldError{{
				Resource: "ExternalService default/legacy", Field: "networking.address",
				Message: `"web.mesh" is the name of service "web" in mesh "default", which takes precedence; host "web.mesh" gets no entry`,
			}},
		},
		{
			name: "host equal to an external service's name",
			docs: []string{
				externalService("default", "a", "api", "example.com:443", ""),
				externalService("default", "b", "other", "API.mesh:443", ""),
			},
			hosts: []HostName{{Mesh: "default", Host: "example.com", Service: "api", Port: 443}},
			problems: []api.FieldError{{
				Resource: "ExternalService default/b", Field: "networking.address",
				Message: `"api.mesh" is the name of service "api" in mesh "default", which takes precedence; host "api.mesh" gets no entry`,
			}},
		},
		{
			name: "host equal to a cross-mesh name",
			docs: []string{
				mtlsMesh("a"), mtlsMesh("b"),
				gateway("a", "gw", "", "{port: 80, protocol: HTTP, crossMesh: true, hostname: shop.mesh}"),
				externalService("b", "shop", "shop-ext", "shop.mesh:443", ""),
			},
			problems: []api.FieldError{{
				Resource: "ExternalService b/shop", Field: "networking.address",
				Message: `"shop.mesh" is the cross-mesh name of MeshGateway a/gw, which takes precedence; host "shop.mesh" gets no entry in mesh "b"`,
			}},
		},
		{
			name:  "a host inside .mesh that nothing else publishes",
			docs:  []string{externalService("default", "legacy", "legacy", "old.mesh:8080", "")},
			hosts: []HostName{{Mesh: "default", Host: "old.mesh", Service: "legacy", Port: 8080}},
		},
		{
			name: "the zone's origin",
			docs: []string{externalService("default", "odd", "odd", "Mesh.:443", "")},
			problems: []api.FieldError{{
				Resource: "ExternalService default/odd", Field: "networking.address",
				Message: `host "mesh" is the DNS zone's origin; it gets no entry`,
			}},
		},
		{
			name: "second ExternalService of one service",
			docs: []string{
				externalService("default", "a", "api", "api-1.example.com:443", ""),
				externalService("default", "b", "api", "api-2.example.com:443", ""),
			},
			hosts: []HostName{{Mesh: "default", Host: "api-1.example.com", Service: "api", Port: 443}},
			problems: []api.FieldError{{
				Resource: "ExternalService default/b", Field: "networking.address",
				Message: `external service "api" is ExternalService default/a's; host "api-2.example.com" gets no entry`,
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, problems := Resolve(build(t, tt.docs...))
			assert.Equal(t, tt.hosts, table.Hosts)
			assert.Equal(t, tt.problems, unlocated(t, problems))
		})
	}
}

func TestIsHostName(t *testing.T) {
	for name, want := range map[string]bool{
		"httpbin.org": true, "a_b.example": true, "x": true,
		"": false, "a..b": false, ".a": false, "a b.org": false, "a*.org": false,
		string(make([]byte, 64)) + ".org": false,
	} {
		assert.Equal(t, want, isHostName(name), "%q", name)
	}
}
