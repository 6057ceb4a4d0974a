package ir_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// validProxy exercises every kind of object Validate looks at.
func validProxy() *ir.Proxy {
	return &ir.Proxy{
		Node: "default.gw", Mesh: "default", Dataplane: "gw",
		Listeners: []ir.Listener{
			{
				Name: "gw:HTTP:8080", Address: "10.0.0.1", Port: 8080, Protocol: ir.HTTP, StatPrefix: "gw",
				FilterChains: []ir.FilterChain{{
					Name: "gw:HTTP:8080:*",
					HTTP: &ir.HTTPConnectionManager{
						StatPrefix: "gw",
						Options:    ir.HTTPOptions{InitialStreamWindow: 65536, InternalAddresses: []string{"127.0.0.1/32"}},
						RouteConfig: ir.RouteConfig{
							Name:                   "gw:HTTP:8080:*",
							RequestHeadersToRemove: []string{"x-kuma-tags"},
							VirtualHosts: []ir.VirtualHost{{
								Name: "*", Domains: []string{"*"},
								Routes: []ir.Route{
									{
										Name:           "r/rules[0]/matches[0]",
										Origin:         &ir.RouteOrigin{Mesh: "default", Route: "r"},
										Match:          ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathRegex, Value: "^/a+$"}, Headers: []ir.HeaderMatch{{Name: "x", Kind: ir.HeaderRegex, Value: "v.*"}}},
										RequestHeaders: ir.HeaderMutation{Set: []ir.Header{{Name: "X-A", Value: "1"}}, Remove: []string{"x-b"}},
										Forward: &ir.Forward{
											Clusters: []ir.WeightedCluster{{Name: "api", Weight: 1}, {Name: names.UnresolvedBackend, Weight: 0}},
											Mirrors:  []ir.Mirror{{Cluster: "api", Percent: 12.5}},
										},
									},
									{Name: "redirect", Match: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/old"}}, Redirect: &ir.Redirect{StatusCode: 301}},
									{Name: "404", Match: ir.RouteMatch{Path: ir.PathMatch{Kind: ir.PathPrefix, Value: "/"}}, DirectResponse: &ir.DirectResponse{Status: 404}},
								},
							}},
						},
					},
				}},
			},
			{
				Name: "gw:TLS:8443", Address: "10.0.0.1", Port: 8443, Protocol: ir.TLS, StatPrefix: "gw",
				FilterChains: []ir.FilterChain{
					{
						Name: "gw:TLS:8443:a.example.com", ServerNames: []string{"a.example.com"}, TransportProtocolTLS: true,
						TLS: &ir.DownstreamTLS{CertificateSecrets: []string{"cert"}, MinVersion: "TLSv1_2"},
						TCP: &ir.TCPProxy{StatPrefix: "gw", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}, {Name: "api", Weight: 3}}},
					},
					{
						Name: "gw:TLS:8443:*", TransportProtocolTLS: true,
						TCP: &ir.TCPProxy{StatPrefix: "gw", Clusters: []ir.WeightedCluster{{Name: "db"}}},
					},
				},
			},
		},
		Clusters: []ir.Cluster{
			{Name: "api", Service: "api", Protocol: ir.ClusterHTTP, Endpoints: []ir.Endpoint{{Address: "10.1.0.1", Port: 80}}},
			{Name: "db", Service: "db", Protocol: ir.ClusterTCP, MTLS: &ir.UpstreamMTLS{
				IdentitySecret: "identity_cert:secret:default", ValidationSecret: "mesh_ca:secret:default",
				SNI: "db{mesh=default}", SAN: "spiffe://default/db",
			}},
		},
		Secrets: []ir.Secret{{Name: "cert", CertificateChain: "chain", PrivateKey: "key"}},
	}
}

func TestValidateAcceptsValidProxy(t *testing.T) {
	require.NoError(t, validProxy().Validate())
}

func TestValidateNil(t *testing.T) {
	var p *ir.Proxy
	require.Error(t, p.Validate())
}

func httpChain(p *ir.Proxy) *ir.FilterChain    { return &p.Listeners[0].FilterChains[0] }
func routeConf(p *ir.Proxy) *ir.RouteConfig    { return &httpChain(p).HTTP.RouteConfig }
func vhost(p *ir.Proxy) *ir.VirtualHost        { return &routeConf(p).VirtualHosts[0] }
func routeAt(p *ir.Proxy, i int) *ir.Route     { return &vhost(p).Routes[i] }
func tlsChain(p *ir.Proxy) *ir.FilterChain     { return &p.Listeners[1].FilterChains[0] }
func forwardOf(p *ir.Proxy) *ir.Forward        { return routeAt(p, 0).Forward }
func clusterAt(p *ir.Proxy, i int) *ir.Cluster { return &p.Clusters[i] }

const (
	l0  = "listeners[0]"
	fc0 = l0 + ".filterChains[0]"
	rc  = fc0 + ".http.routeConfig"
	vh0 = rc + ".virtualHosts[0]"
	r0  = vh0 + ".routes[0]"
	tls = "listeners[1].filterChains[0]"
)

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *ir.Proxy)
		want   string
	}{
		{"listener name empty", func(p *ir.Proxy) { p.Listeners[0].Name = "" }, l0 + ".name: must be set"},
		{"listener name duplicate", func(p *ir.Proxy) { p.Listeners[1].Name = p.Listeners[0].Name }, `listeners[1].name: duplicate "gw:HTTP:8080" (first at listeners[0].name)`},
		{"port zero", func(p *ir.Proxy) { p.Listeners[0].Port = 0 }, l0 + ".port: must be in [1, 65535]"},
		{"port too large", func(p *ir.Proxy) { p.Listeners[0].Port = 65536 }, l0 + ".port: must be in [1, 65535]"},
		{"address not IP", func(p *ir.Proxy) { p.Listeners[0].Address = "gw.local" }, l0 + ".address: must be an IP address"},
		{"same socket twice", func(p *ir.Proxy) { p.Listeners[1].Port = 8080 }, "listeners[1]: address 10.0.0.1:8080 already used by listeners[0]"},
		{"protocol unknown", func(p *ir.Proxy) { p.Listeners[0].Protocol = "UDP" }, l0 + ".protocol: must be one of"},
		{"listener without chains", func(p *ir.Proxy) { p.Listeners[0].FilterChains = nil }, l0 + ".filterChains: at least one filter chain is required"},
		{"chain name empty", func(p *ir.Proxy) { httpChain(p).Name = "" }, fc0 + ".name: must be set"},
		{"chain with neither", func(p *ir.Proxy) { httpChain(p).HTTP = nil }, fc0 + ": exactly one of http and tcp must be set"},
		{"chain with both", func(p *ir.Proxy) {
			httpChain(p).TCP = &ir.TCPProxy{StatPrefix: "x", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}}}
		}, fc0 + ": exactly one of http and tcp must be set"},
		{"chains with same match", func(p *ir.Proxy) { p.Listeners[1].FilterChains[1].ServerNames = []string{"a.example.com"} }, `listeners[1].filterChains[1]: matches the same connections as listeners[1].filterChains[0] (server name "a.example.com")`},
		{"tls unknown secret", func(p *ir.Proxy) { tlsChain(p).TLS.CertificateSecrets = []string{"nope"} }, tls + `.tls.certificateSecrets[0]: references unknown secret "nope"`},
		{"tls no certificate", func(p *ir.Proxy) { tlsChain(p).TLS.CertificateSecrets = nil }, tls + ".tls.certificateSecrets: at least one certificate"},
		{"tls duplicate certificate", func(p *ir.Proxy) { tlsChain(p).TLS.CertificateSecrets = []string{"cert", "cert"} }, tls + `.tls.certificateSecrets[1]: duplicate "cert"`},
		{"tls bad version", func(p *ir.Proxy) { tlsChain(p).TLS.MinVersion = "1.2" }, tls + ".tls.minVersion: must be one of"},
		{"tcp no clusters", func(p *ir.Proxy) { tlsChain(p).TCP.Clusters = nil }, tls + ".tcp.clusters: at least one cluster is required"},
		{"tcp zero weight split", func(p *ir.Proxy) { tlsChain(p).TCP.Clusters[0].Weight = 0 }, tls + ".tcp.clusters[0].weight: must be at least 1"},
		{"tcp unknown cluster", func(p *ir.Proxy) { tlsChain(p).TCP.Clusters[0].Name = "x" }, tls + `.tcp.clusters[0].name: references unknown cluster "x"`},
		{"tcp stat prefix", func(p *ir.Proxy) { tlsChain(p).TCP.StatPrefix = "" }, tls + ".tcp.statPrefix: must be set"},
		{"hcm stat prefix", func(p *ir.Proxy) { httpChain(p).HTTP.StatPrefix = "" }, fc0 + ".http.statPrefix: must be set"},
		{"hcm window", func(p *ir.Proxy) { httpChain(p).HTTP.Options.InitialConnWindow = 100 }, fc0 + ".http.options.initialConnWindow: must be 0 or in [65535"},
		{"hcm negative timeout", func(p *ir.Proxy) { httpChain(p).HTTP.Options.StreamIdleTimeout = -time.Second }, fc0 + ".http.options.streamIdleTimeout: must not be negative"},
		{"hcm bad cidr", func(p *ir.Proxy) { httpChain(p).HTTP.Options.InternalAddresses = []string{"10.0.0.1"} }, fc0 + ".http.options.internalAddresses[0]: must be a CIDR"},
		{"route config name empty", func(p *ir.Proxy) { routeConf(p).Name = "" }, rc + ".name: must be set"},
		{"route config name reused across listeners", func(p *ir.Proxy) {
			p.Listeners[1].FilterChains[1] = ir.FilterChain{Name: "x", HTTP: &ir.HTTPConnectionManager{StatPrefix: "s", RouteConfig: ir.RouteConfig{Name: routeConf(p).Name}}}
		}, `listeners[1].filterChains[1].http.routeConfig.name: duplicate "gw:HTTP:8080:*" (first at ` + rc + ".name)"},
		{"remove host header", func(p *ir.Proxy) { routeConf(p).RequestHeadersToRemove = []string{"Host"} }, rc + `.requestHeadersToRemove[0]: header "Host" cannot be modified`},
		{"vh name duplicate", func(p *ir.Proxy) {
			routeConf(p).VirtualHosts = append(routeConf(p).VirtualHosts, ir.VirtualHost{Name: "*", Domains: []string{"b"}})
		}, rc + `.virtualHosts[1].name: duplicate "*"`},
		{"vh domain duplicate across hosts", func(p *ir.Proxy) {
			routeConf(p).VirtualHosts = append(routeConf(p).VirtualHosts, ir.VirtualHost{Name: "b", Domains: []string{"*"}})
		}, rc + `.virtualHosts[1].domains[0]: duplicate "*"`},
		{"vh no domains", func(p *ir.Proxy) { vhost(p).Domains = nil }, vh0 + ".domains: at least one domain"},
		{"vh header with newline", func(p *ir.Proxy) { vhost(p).ResponseHeadersToAdd = []ir.Header{{Name: "a", Value: "x\ny"}} }, vh0 + ".responseHeadersToAdd[0].value: must not contain NUL, CR or LF"},
		{"route name empty", func(p *ir.Proxy) { routeAt(p, 1).Name = "" }, vh0 + ".routes[1].name: must be set"},
		{"route name duplicate", func(p *ir.Proxy) { routeAt(p, 2).Name = "redirect" }, vh0 + `.routes[2].name: duplicate "redirect" (first at ` + vh0 + ".routes[1].name)"},
		{"no action", func(p *ir.Proxy) { routeAt(p, 2).DirectResponse = nil }, vh0 + ".routes[2]: exactly one action must be set"},
		{"two actions", func(p *ir.Proxy) { routeAt(p, 2).Redirect = &ir.Redirect{StatusCode: 302} }, vh0 + ".routes[2]: exactly one action must be set"},
		{"path kind empty", func(p *ir.Proxy) { routeAt(p, 1).Match.Path = ir.PathMatch{} }, vh0 + `.routes[1].match.path.kind: must be one of Exact, Prefix, Regex, got ""`},
		{"path not absolute", func(p *ir.Proxy) { routeAt(p, 1).Match.Path.Value = "old" }, vh0 + ".routes[1].match.path.value: must be an absolute path"},
		{"path regex broken", func(p *ir.Proxy) { routeAt(p, 0).Match.Path.Value = "(" }, r0 + ".match.path.value: invalid regular expression"},
		{"header regex broken", func(p *ir.Proxy) { routeAt(p, 0).Match.Headers[0].Value = "[" }, r0 + ".match.headers[0].value: invalid regular expression"},
		{"header kind unknown", func(p *ir.Proxy) { routeAt(p, 0).Match.Headers[0].Kind = "Prefix" }, r0 + ".match.headers[0].kind: must be one of"},
		{"header match name empty", func(p *ir.Proxy) { routeAt(p, 0).Match.Headers[0].Name = "" }, r0 + ".match.headers[0].name: must be set"},
		{"query regex broken", func(p *ir.Proxy) {
			routeAt(p, 0).Match.Query = []ir.QueryMatch{{Name: "q", Kind: ir.QueryRegex, Value: "a("}}
		}, r0 + ".match.query[0].value: invalid regular expression"},
		{"query kind unknown", func(p *ir.Proxy) { routeAt(p, 0).Match.Query = []ir.QueryMatch{{Name: "q"}} }, r0 + ".match.query[0].kind: must be one of Exact, Regex"},
		{"set pseudo header", func(p *ir.Proxy) { routeAt(p, 0).RequestHeaders.Set[0].Name = ":authority" }, r0 + `.requestHeaders.set[0].name: header ":authority" cannot be modified`},
		{"add empty header", func(p *ir.Proxy) { routeAt(p, 0).ResponseHeaders.Add = []ir.Header{{Value: "v"}} }, r0 + ".responseHeaders.add[0].name: must be set"},
		{"forward no clusters", func(p *ir.Proxy) { forwardOf(p).Clusters = nil }, r0 + ".forward.clusters: at least one cluster is required"},
		{"forward zero weights", func(p *ir.Proxy) { forwardOf(p).Clusters[0].Weight = 0 }, r0 + ".forward.clusters: weights must sum to a value in [1, 4294967295], got 0"},
		{"forward weights overflow", func(p *ir.Proxy) {
			forwardOf(p).Clusters[0].Weight = math.MaxUint32
			forwardOf(p).Clusters[1].Weight = 1
		}, r0 + ".forward.clusters: weights must sum"},
		{"forward unknown cluster", func(p *ir.Proxy) { forwardOf(p).Clusters[0].Name = "nope" }, r0 + `.forward.clusters[0].name: references unknown cluster "nope"`},
		{"forward cluster header", func(p *ir.Proxy) {
			forwardOf(p).Clusters[0].RequestHeadersToAdd = []ir.Header{{Name: "host", Value: "x"}}
		}, r0 + `.forward.clusters[0].requestHeadersToAdd[0].name: header "host" cannot be modified`},
		{"forward two path rewrites", func(p *ir.Proxy) { forwardOf(p).PrefixRewrite, forwardOf(p).FullPathRewrite = "/a", "/b" }, r0 + ".forward: prefixRewrite and fullPathRewrite are mutually exclusive"},
		{"forward two host rewrites", func(p *ir.Proxy) { forwardOf(p).HostRewrite, forwardOf(p).AutoHostRewrite = "a", true }, r0 + ".forward: hostRewrite and autoHostRewrite are mutually exclusive"},
		{"mirror unknown cluster", func(p *ir.Proxy) { forwardOf(p).Mirrors[0].Cluster = "nope" }, r0 + `.forward.mirrors[0].cluster: references unknown cluster "nope"`},
		{"mirror percent high", func(p *ir.Proxy) { forwardOf(p).Mirrors[0].Percent = 100.5 }, r0 + ".forward.mirrors[0].percent: must be in [0, 100]"},
		{"mirror percent negative", func(p *ir.Proxy) { forwardOf(p).Mirrors[0].Percent = -1 }, r0 + ".forward.mirrors[0].percent: must be in [0, 100]"},
		{"mirror percent NaN", func(p *ir.Proxy) { forwardOf(p).Mirrors[0].Percent = math.NaN() }, r0 + ".forward.mirrors[0].percent: must be in [0, 100]"},
		{"forward negative timeout", func(p *ir.Proxy) { forwardOf(p).Timeout = -1 }, r0 + ".forward.timeout: must not be negative"},
		{"redirect code", func(p *ir.Proxy) { routeAt(p, 1).Redirect.StatusCode = 300 }, vh0 + ".routes[1].redirect.statusCode: must be one of 301, 302, 303, 307, 308, got 300"},
		{"redirect port", func(p *ir.Proxy) { routeAt(p, 1).Redirect.Port = 70000 }, vh0 + ".routes[1].redirect.port: must be in [0, 65535]"},
		{"redirect two rewrites", func(p *ir.Proxy) {
			routeAt(p, 1).Redirect.PrefixRewrite, routeAt(p, 1).Redirect.FullPathRewrite = "/a", "/b"
		}, vh0 + ".routes[1].redirect: prefixRewrite and fullPathRewrite are mutually exclusive"},
		{"direct status", func(p *ir.Proxy) { routeAt(p, 2).DirectResponse.Status = 600 }, vh0 + ".routes[2].directResponse.status: must be in [200, 599]"},
		{"cluster name empty", func(p *ir.Proxy) { clusterAt(p, 1).Name = "" }, "clusters[1].name: must be set"},
		{"cluster name duplicate", func(p *ir.Proxy) { clusterAt(p, 1).Name = "api" }, `clusters[1].name: duplicate "api" (first at clusters[0].name)`},
		{"cluster named unresolved", func(p *ir.Proxy) { clusterAt(p, 1).Name = names.UnresolvedBackend }, "clusters[1].name: \"kuma.io/unresolved-backend\" is reserved"},
		{"cluster service", func(p *ir.Proxy) { clusterAt(p, 0).Service = "" }, "clusters[0].service: must be set"},
		{"cluster protocol", func(p *ir.Proxy) { clusterAt(p, 0).Protocol = "grpc" }, `clusters[0].protocol: must be one of tcp, http, http2, got "grpc"`},
		{"endpoint hostname", func(p *ir.Proxy) { clusterAt(p, 0).Endpoints[0].Address = "api.local" }, "clusters[0].endpoints[0].address: must be an IP address"},
		{"endpoint port", func(p *ir.Proxy) { clusterAt(p, 0).Endpoints[0].Port = 0 }, "clusters[0].endpoints[0].port: must be in [1, 65535]"},
		{"remote endpoint without zone", func(p *ir.Proxy) { clusterAt(p, 0).Endpoints[0].Priority = 1 }, "clusters[0].endpoints[0].zone: must be set for an endpoint of priority 1"},
		{"priority gap", func(p *ir.Proxy) {
			clusterAt(p, 0).Endpoints[0].Priority, clusterAt(p, 0).Endpoints[0].Zone = 1, "zone-2"
		}, "clusters[0].endpoints: priority 0 has no endpoint while priority 1 has some"},
		{"mtls identity", func(p *ir.Proxy) { clusterAt(p, 1).MTLS.IdentitySecret = "" }, "clusters[1].mtls.identitySecret: must be set"},
		{"mtls validation", func(p *ir.Proxy) { clusterAt(p, 1).MTLS.ValidationSecret = "" }, "clusters[1].mtls.validationSecret: must be set"},
		{"mtls san", func(p *ir.Proxy) { clusterAt(p, 1).MTLS.SAN = "" }, "clusters[1].mtls.san: must be set"},
		{"mtls sni too long", func(p *ir.Proxy) { clusterAt(p, 1).MTLS.SNI = strings.Repeat("a", 256) }, "clusters[1].mtls.sni: must be at most 255 bytes"},
		{"secret name duplicate", func(p *ir.Proxy) { p.Secrets = append(p.Secrets, p.Secrets[0]) }, `secrets[1].name: duplicate "cert"`},
		{"secret key empty", func(p *ir.Proxy) { p.Secrets[0].PrivateKey = " " }, "secrets[0].privateKey: must be set"},
		{"secret chain empty", func(p *ir.Proxy) { p.Secrets[0].CertificateChain = "" }, "secrets[0].certificateChain: must be set"},
		{"trust bundle with key", func(p *ir.Proxy) { p.Secrets[0].TrustedCA = "BUNDLE" }, "secrets[0]: a trust bundle secret cannot also carry a certificate or key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := validProxy()
			c.mutate(p)
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// The route path in the brief's example is exactly what a caller sees.
func TestValidatePathFormat(t *testing.T) {
	p := validProxy()
	routeAt(p, 2).DirectResponse = nil
	err := p.Validate()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(),
		"listeners[0].filterChains[0].http.routeConfig.virtualHosts[0].routes[2]: exactly one action must be set"), err.Error())
}

func TestValidateReportsEveryProblem(t *testing.T) {
	p := validProxy()
	p.Listeners[0].Port = 0
	routeAt(p, 1).Redirect.StatusCode = 200
	p.Secrets[0].Name = ""
	err := p.Validate()
	require.Error(t, err)
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined))
	// The secret's own error plus the listener's now-dangling reference to "cert".
	assert.Len(t, joined.Unwrap(), 4)
	for _, want := range []string{l0 + ".port", vh0 + ".routes[1].redirect.statusCode", "secrets[0].name", tls + ".tls.certificateSecrets[0]"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestValidateIsDeterministic(t *testing.T) {
	p := validProxy()
	clusterAt(p, 1).MTLS = &ir.UpstreamMTLS{}
	httpChain(p).HTTP.Options.RequestHeadersTimeout = -1
	httpChain(p).HTTP.Options.IdleTimeout = -1
	first := p.Validate().Error()
	for range 20 {
		require.Equal(t, first, p.Validate().Error())
	}
}

func TestValidateAcceptsUnresolvedBackendEverywhere(t *testing.T) {
	p := validProxy()
	forwardOf(p).Mirrors[0].Cluster = names.UnresolvedBackend
	tlsChain(p).TCP.Clusters[0].Name = names.UnresolvedBackend
	require.NoError(t, p.Validate())
}
