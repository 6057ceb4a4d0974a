package ir_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// sidecarProxy exercises every sidecar feature Validate looks at: an mTLS HTTP inbound with
// RBAC, faults and access logs, a virtual outbound, the redirect listener, and every cluster type.
func sidecarProxy(t *testing.T) *ir.Proxy {
	ca := certstest.NewRoot(t, "external")
	client := ca.NewIntermediate(t, "client", certstest.NotCA())
	return &ir.Proxy{
		Node: "default.web", Mesh: "default", Dataplane: "web",
		Listeners: []ir.Listener{
			{
				Name: "inbound:10.0.0.5:8080", Address: "10.0.0.5", Port: 8080, Protocol: ir.HTTP, Direction: ir.DirectionInbound,
				FilterChains: []ir.FilterChain{{
					Name: "inbound:10.0.0.5:8080",
					TLS: &ir.DownstreamTLS{IdentitySecret: "identity", RequireClientCert: true,
						ValidationSecret: "mesh_ca", SANPrefix: "spiffe://default/"},
					RBAC: &ir.RBAC{StatPrefix: "inbound:10.0.0.5:8080.", Policies: []ir.RBACPolicy{
						{Name: "tp", Principals: []ir.Principal{{URIs: []ir.SANMatch{
							{Kind: ir.SANExact, Value: "spiffe://default/frontend"}, {Kind: ir.SANRegex, Value: "kuma://version/v.*"},
						}}}},
					}},
					HTTP: &ir.HTTPConnectionManager{
						StatPrefix: "localhost:8080", Sidecar: true, ForwardClientCert: true,
						RouteConfig: ir.RouteConfig{Name: "inbound:web"},
						Faults: []ir.Fault{{
							Name: "f", SourceTags: map[string]string{"kuma.io/service": "frontend", "version": "*"},
							Delay: &ir.FaultDelay{Percent: 50, Value: time.Second}, Abort: &ir.FaultAbort{Percent: 10, HTTPStatus: 503},
							ResponseBandwidth: &ir.FaultBandwidth{Percent: 100, LimitKbps: 1},
						}},
						AccessLogs: []ir.AccessLog{
							{Backend: "file", Path: "/dev/stdout"},
							{Backend: "logstash", TCP: &ir.TCPLogSink{Cluster: "access_log_sink:logstash"}},
						},
					},
				}},
			},
			{
				Name: "outbound:240.0.0.1:80", Address: "240.0.0.1", Port: 80, Protocol: ir.TCP, Direction: ir.DirectionOutbound, Virtual: true,
				FilterChains: []ir.FilterChain{{Name: "outbound:240.0.0.1:80", TCP: &ir.TCPProxy{
					StatPrefix: "httpbin", Clusters: []ir.WeightedCluster{{Name: "httpbin", Weight: 1}},
					AccessLogs: []ir.AccessLog{{Path: "/dev/stdout", Format: "%START_TIME%\n"}},
				}}},
			},
			{
				Name: "outbound:passthrough:ipv4", Address: "0.0.0.0", Port: 15001, Protocol: ir.TCP, Direction: ir.DirectionOutbound,
				UseOriginalDst: true,
				DefaultChain: &ir.FilterChain{Name: "passthrough", TCP: &ir.TCPProxy{
					StatPrefix: "passthrough", Clusters: []ir.WeightedCluster{{Name: "outbound:passthrough:ipv4", Weight: 1}},
				}},
			},
		},
		Clusters: []ir.Cluster{
			{Name: "localhost:8080", Type: ir.ClusterStatic, Service: "web", Protocol: ir.ClusterHTTP,
				Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: 8080}}, ConnectTimeout: time.Second},
			{Name: "httpbin", Type: ir.ClusterStrictDNS, Service: "httpbin", Protocol: ir.ClusterTCP,
				Endpoints: []ir.Endpoint{{Address: "httpbin.org", Port: 443}},
				TLS: &ir.UpstreamTLS{SNI: "httpbin.org", CA: string(ca.CertPEM()), VerifySAN: "httpbin.org",
					ClientCertificate: string(client.CertPEM()), ClientKey: string(client.KeyPEM(t)), ALPN: []string{"h2"}}},
			{Name: "access_log_sink:logstash", Type: ir.ClusterStrictDNS, Service: "logstash", Protocol: ir.ClusterTCP,
				Endpoints: []ir.Endpoint{{Address: "logstash.logging.svc", Port: 5170}}},
			{Name: "outbound:passthrough:ipv4", Type: ir.ClusterOriginalDst, Service: "passthrough", Protocol: ir.ClusterTCP},
		},
		Secrets: []ir.Secret{
			{Name: "identity", CertificateChain: "chain", PrivateKey: "key"},
			{Name: "mesh_ca", TrustedCA: "bundle"},
		},
	}
}

func TestValidateAcceptsSidecar(t *testing.T) {
	require.NoError(t, sidecarProxy(t).Validate())
}

func TestValidateAcceptsSidecarVariants(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *ir.Proxy)
	}{
		{"rbac without policies", func(p *ir.Proxy) { inbound(p).RBAC.Policies = nil }},
		{"insecure external service", func(p *ir.Proxy) {
			ext(p).CA, ext(p).VerifySAN, ext(p).AllowInsecure = "", "", true
		}},
		{"external service without client certificate", func(p *ir.Proxy) { ext(p).ClientCertificate, ext(p).ClientKey = "", "" }},
		{"STRICT_DNS with an IP", func(p *ir.Proxy) { p.Clusters[1].Endpoints[0].Address = "93.184.216.34" }},
		{"fault without source tags", func(p *ir.Proxy) { fault(p).SourceTags = nil }},
		{"abort 200 and 599", func(p *ir.Proxy) {
			inbound(p).HTTP.Faults = append(inbound(p).HTTP.Faults, ir.Fault{Abort: &ir.FaultAbort{HTTPStatus: 599}})
			fault(p).Abort.HTTPStatus = 200
		}},
		{"redirect listener with chains too", func(p *ir.Proxy) {
			l := &p.Listeners[2]
			l.FilterChains = []ir.FilterChain{{Name: "x", ServerNames: []string{"a"}, TCP: l.DefaultChain.TCP}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := sidecarProxy(t)
			c.mutate(p)
			require.NoError(t, p.Validate())
		})
	}
}

func inbound(p *ir.Proxy) *ir.FilterChain  { return &p.Listeners[0].FilterChains[0] }
func fault(p *ir.Proxy) *ir.Fault          { return &inbound(p).HTTP.Faults[0] }
func ext(p *ir.Proxy) *ir.UpstreamTLS      { return p.Clusters[1].TLS }
func redirect(p *ir.Proxy) *ir.Listener    { return &p.Listeners[2] }
func outboundTCP(p *ir.Proxy) *ir.TCPProxy { return p.Listeners[1].FilterChains[0].TCP }

const (
	in   = "listeners[0].filterChains[0]"
	hcm  = in + ".http"
	f0   = hcm + ".faults[0]"
	l2   = "listeners[2]"
	ext1 = "clusters[1].tls"
)

func TestValidateRejectsSidecar(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *ir.Proxy)
		want   string
	}{
		// Listeners.
		{"direction", func(p *ir.Proxy) { p.Listeners[0].Direction = "SIDEWAYS" }, `listeners[0].direction: must be one of INBOUND, OUTBOUND, got "SIDEWAYS"`},
		{"virtual redirect", func(p *ir.Proxy) { redirect(p).Virtual = true }, l2 + ".useOriginalDst: a virtual listener binds no socket"},
		{"redirect without default chain", func(p *ir.Proxy) { redirect(p).DefaultChain = nil }, l2 + ".defaultChain: must be set with useOriginalDst"},
		{"default chain without redirect", func(p *ir.Proxy) { redirect(p).UseOriginalDst = false }, l2 + ".defaultChain: requires useOriginalDst"},
		{"default chain with a match", func(p *ir.Proxy) { redirect(p).DefaultChain.TransportProtocolTLS = true }, l2 + ".defaultChain: the default chain takes no match"},
		{"default chain checked like any chain", func(p *ir.Proxy) { redirect(p).DefaultChain.TCP.Clusters[0].Name = "nope" }, l2 + `.defaultChain.tcp.clusters[0].name: references unknown cluster "nope"`},
		{"default chain name clash", func(p *ir.Proxy) {
			redirect(p).FilterChains = []ir.FilterChain{{Name: "passthrough", ServerNames: []string{"a"}, TCP: redirect(p).DefaultChain.TCP}}
		}, l2 + `.defaultChain.name: duplicate "passthrough"`},
		{"no chains and no default", func(p *ir.Proxy) { redirect(p).DefaultChain, redirect(p).UseOriginalDst = nil, false }, l2 + ".filterChains: at least one filter chain is required"},
		// RBAC.
		{"rbac without client certificates", func(p *ir.Proxy) { inbound(p).TLS = nil; inbound(p).HTTP.ForwardClientCert = false }, in + ".rbac: requires tls.requireClientCert"},
		{"rbac stat prefix", func(p *ir.Proxy) { inbound(p).RBAC.StatPrefix = "" }, in + ".rbac.statPrefix: must be set"},
		{"rbac policy name empty", func(p *ir.Proxy) { inbound(p).RBAC.Policies[0].Name = "" }, in + ".rbac.policies[0].name: must be set"},
		{"rbac policy name duplicate", func(p *ir.Proxy) {
			inbound(p).RBAC.Policies = append(inbound(p).RBAC.Policies, inbound(p).RBAC.Policies[0])
		}, in + `.rbac.policies[1].name: duplicate "tp"`},
		{"rbac policy without principals", func(p *ir.Proxy) { inbound(p).RBAC.Policies[0].Principals = nil }, in + ".rbac.policies[0].principals: at least one principal is required"},
		{"rbac principal without matchers", func(p *ir.Proxy) { inbound(p).RBAC.Policies[0].Principals[0].URIs = nil }, in + ".rbac.policies[0].principals[0].uris: at least one matcher is required"},
		{"rbac matcher kind", func(p *ir.Proxy) { inbound(p).RBAC.Policies[0].Principals[0].URIs[0].Kind = "Suffix" }, in + `.rbac.policies[0].principals[0].uris[0].kind: must be one of Exact, Prefix, Regex, got "Suffix"`},
		{"rbac matcher empty", func(p *ir.Proxy) { inbound(p).RBAC.Policies[0].Principals[0].URIs[0].Value = "" }, in + ".rbac.policies[0].principals[0].uris[0].value: must be set"},
		{"rbac regex broken", func(p *ir.Proxy) { inbound(p).RBAC.Policies[0].Principals[0].URIs[1].Value = "(" }, in + ".rbac.policies[0].principals[0].uris[1].value: invalid regular expression"},
		// Mesh bundle validation.
		{"validation secret without requiring certs", func(p *ir.Proxy) { inbound(p).TLS.RequireClientCert = false }, in + ".tls.requireClientCert: must be set when validationSecret is"},
		{"validation secret without SAN prefix", func(p *ir.Proxy) { inbound(p).TLS.SANPrefix = "" }, in + ".tls.sanPrefix: must be set"},
		{"SAN prefix without validation secret", func(p *ir.Proxy) { inbound(p).TLS.ValidationSecret, inbound(p).TLS.RequireClientCert = "", false }, in + ".tls.sanPrefix: requires validationSecret"},
		{"neither validator", func(p *ir.Proxy) { inbound(p).TLS.ValidationSecret, inbound(p).TLS.SANPrefix = "", "" }, in + ".tls.validationSecret: must be set with requireClientCert"},
		{"validation secret unknown", func(p *ir.Proxy) { inbound(p).TLS.ValidationSecret = "nope" }, in + `.tls.validationSecret: references unknown secret "nope"`},
		{"validation secret not a bundle", func(p *ir.Proxy) { inbound(p).TLS.ValidationSecret = "identity" }, in + `.tls.validationSecret: secret "identity" is a certificate, not a trust bundle`},
		// Sidecar connection manager.
		{"sidecar with edge options", func(p *ir.Proxy) { inbound(p).HTTP.Options.ServerName = "x" }, hcm + ".options: a sidecar connection manager keeps Envoy's defaults"},
		// Faults.
		{"fault of no kind", func(p *ir.Proxy) { *fault(p) = ir.Fault{Name: "f"} }, f0 + ": at least one of delay, abort and responseBandwidth is required"},
		{"fault delay percent", func(p *ir.Proxy) { fault(p).Delay.Percent = 100.1 }, f0 + ".delay.percent: must be in [0, 100]"},
		{"fault delay percent NaN", func(p *ir.Proxy) { fault(p).Delay.Percent = math.NaN() }, f0 + ".delay.percent: must be in [0, 100]"},
		{"fault delay zero", func(p *ir.Proxy) { fault(p).Delay.Value = 0 }, f0 + ".delay.value: must be positive"},
		{"fault abort percent", func(p *ir.Proxy) { fault(p).Abort.Percent = -1 }, f0 + ".abort.percent: must be in [0, 100]"},
		{"fault abort status low", func(p *ir.Proxy) { fault(p).Abort.HTTPStatus = 199 }, f0 + ".abort.httpStatus: must be in [200, 599], got 199"},
		{"fault abort status high", func(p *ir.Proxy) { fault(p).Abort.HTTPStatus = 600 }, f0 + ".abort.httpStatus: must be in [200, 599], got 600"},
		{"fault bandwidth percent", func(p *ir.Proxy) { fault(p).ResponseBandwidth.Percent = 101 }, f0 + ".responseBandwidth.percent: must be in [0, 100]"},
		{"fault bandwidth zero", func(p *ir.Proxy) { fault(p).ResponseBandwidth.LimitKbps = 0 }, f0 + ".responseBandwidth.limitKbps: must be at least 1"},
		{"fault tag key", func(p *ir.Proxy) { fault(p).SourceTags[""] = "x" }, f0 + `.sourceTags[""]: tag key must be non-empty`},
		{"fault tag value", func(p *ir.Proxy) { fault(p).SourceTags["version"] = "a&b" }, f0 + `.sourceTags["version"]: tag value must be non-empty and free of '&' and '='`},
		// Access logs.
		{"access log with neither", func(p *ir.Proxy) { inbound(p).HTTP.AccessLogs[0].Path = "" }, hcm + ".accessLogs[0]: exactly one of path and tcp must be set"},
		{"access log with both", func(p *ir.Proxy) { inbound(p).HTTP.AccessLogs[0].TCP = &ir.TCPLogSink{Cluster: "httpbin"} }, hcm + ".accessLogs[0]: exactly one of path and tcp must be set"},
		{"access log unknown sink", func(p *ir.Proxy) { inbound(p).HTTP.AccessLogs[1].TCP.Cluster = "nope" }, hcm + `.accessLogs[1].tcp.cluster: references unknown cluster "nope"`},
		{"access log sink empty", func(p *ir.Proxy) { inbound(p).HTTP.AccessLogs[1].TCP.Cluster = "" }, hcm + ".accessLogs[1].tcp.cluster: must be set"},
		{"access log sink unresolved", func(p *ir.Proxy) { inbound(p).HTTP.AccessLogs[1].TCP.Cluster = names.UnresolvedBackend }, hcm + `.accessLogs[1].tcp.cluster: references unknown cluster`},
		{"access log backend", func(p *ir.Proxy) { inbound(p).HTTP.AccessLogs[1].Backend = "" }, hcm + ".accessLogs[1].backend: must be set"},
		{"access log Kuma placeholder", func(p *ir.Proxy) { outboundTCP(p).AccessLogs[0].Format = "%KUMA_MESH%\n" }, "listeners[1].filterChains[0].tcp.accessLogs[0].format: Kuma placeholders (%KUMA_...%) must be resolved"},
		// Clusters.
		{"cluster type", func(p *ir.Proxy) { p.Clusters[0].Type = "LOGICAL_DNS" }, `clusters[0].type: must be one of EDS (empty), STATIC, STRICT_DNS, ORIGINAL_DST, got "LOGICAL_DNS"`},
		{"STATIC hostname", func(p *ir.Proxy) { p.Clusters[0].Endpoints[0].Address = "localhost" }, `clusters[0].endpoints[0].address: must be an IP address, got "localhost"`},
		{"STRICT_DNS empty host", func(p *ir.Proxy) { p.Clusters[1].Endpoints[0].Address = "" }, "clusters[1].endpoints[0].address: must be set"},
		{"STRICT_DNS bad host", func(p *ir.Proxy) { p.Clusters[1].Endpoints[0].Address = "http://httpbin.org" }, `clusters[1].endpoints[0].address: must be a DNS name or an IP address, got "http://httpbin.org"`},
		{"STRICT_DNS port", func(p *ir.Proxy) { p.Clusters[1].Endpoints[0].Port = 0 }, "clusters[1].endpoints[0].port: must be in [1, 65535]"},
		{"ORIGINAL_DST endpoints", func(p *ir.Proxy) { p.Clusters[3].Endpoints = []ir.Endpoint{{Address: "10.0.0.1", Port: 80}} }, "clusters[3].endpoints: an ORIGINAL_DST cluster forwards to each connection's original destination"},
		{"negative connect timeout", func(p *ir.Proxy) { p.Clusters[0].ConnectTimeout = -time.Second }, "clusters[0].connectTimeout: must not be negative"},
		{"mtls and tls", func(p *ir.Proxy) {
			p.Clusters[1].MTLS = &ir.UpstreamMTLS{IdentitySecret: "identity", ValidationSecret: "mesh_ca", SAN: "spiffe://default/x"}
		}, "clusters[1].tls: cannot be set together with mtls"},
		{"tls without CA", func(p *ir.Proxy) { ext(p).CA, ext(p).VerifySAN = "", "" }, ext1 + ".ca: must be set unless allowInsecure"},
		{"tls SAN without CA", func(p *ir.Proxy) { ext(p).CA, ext(p).AllowInsecure = "", true }, ext1 + ".verifySAN: requires ca"},
		{"tls bad CA", func(p *ir.Proxy) { ext(p).CA = "not a pem" }, ext1 + ".ca: bundle holds no PEM certificate"},
		{"tls cert without key", func(p *ir.Proxy) { ext(p).ClientKey = "" }, ext1 + ": clientCertificate and clientKey must be set together"},
		{"tls key without cert", func(p *ir.Proxy) { ext(p).ClientCertificate = "" }, ext1 + ": clientCertificate and clientKey must be set together"},
		{"tls key mismatch", func(p *ir.Proxy) {
			other := certstest.NewRoot(t, "other")
			ext(p).ClientKey = string(other.KeyPEM(t))
		}, ext1 + ".clientCertificate: tls: private key does not match public key"},
		{"tls sni too long", func(p *ir.Proxy) { ext(p).SNI = string(make([]byte, 256)) }, ext1 + ".sni: must be at most 255 bytes"},
		{"tls empty alpn", func(p *ir.Proxy) { ext(p).ALPN = []string{""} }, ext1 + ".alpn[0]: must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := sidecarProxy(t)
			c.mutate(p)
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
