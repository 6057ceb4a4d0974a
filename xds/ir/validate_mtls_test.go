package ir_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/xds/ir"
)

// crossMeshProxy turns the valid fixture's HTTP chain into a cross-mesh one.
func crossMeshProxy(t *testing.T) *ir.Proxy {
	p := validProxy()
	bundle := string(certs.EncodeCertificates(certstest.NewRoot(t, "default").Cert))
	p.Secrets = append(p.Secrets, ir.Secret{Name: "identity_cert:secret:default", CertificateChain: "chain", PrivateKey: "key"})
	fc := httpChain(p)
	fc.TransportProtocolTLS = true
	fc.ApplicationProtocols = []string{"kuma"}
	fc.TLS = &ir.DownstreamTLS{
		IdentitySecret: "identity_cert:secret:default", ALPN: []string{"kuma"}, RequireClientCert: true,
		SPIFFETrustDomains: map[string]string{"default": bundle, "other": bundle},
	}
	fc.HTTP.ForwardClientCert = true
	return p
}

func TestValidateCrossMeshChain(t *testing.T) {
	require.NoError(t, crossMeshProxy(t).Validate())

	cases := []struct {
		name   string
		mutate func(*ir.FilterChain)
		want   string
	}{
		{"no validator", func(fc *ir.FilterChain) { fc.TLS.SPIFFETrustDomains = nil },
			"tls.spiffeTrustDomains: at least one trust domain is required with requireClientCert"},
		{"validator without requiring certs", func(fc *ir.FilterChain) { fc.TLS.RequireClientCert = false },
			"tls.requireClientCert: must be set when spiffeTrustDomains are"},
		{"bad trust domain", func(fc *ir.FilterChain) { fc.TLS.SPIFFETrustDomains["Bad Mesh"] = fc.TLS.SPIFFETrustDomains["default"] },
			`tls.spiffeTrustDomains["Bad Mesh"]: not a SPIFFE trust domain`},
		{"bundle not PEM", func(fc *ir.FilterChain) { fc.TLS.SPIFFETrustDomains["other"] = "nope" },
			`tls.spiffeTrustDomains["other"]: bundle holds no PEM certificate`},
		{"bundle with a key", func(fc *ir.FilterChain) {
			fc.TLS.SPIFFETrustDomains["other"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}, `tls.spiffeTrustDomains["other"]: bundle holds a "PRIVATE KEY" PEM block, want only certificates`},
		{"unknown identity", func(fc *ir.FilterChain) { fc.TLS.IdentitySecret = "identity_cert:secret:nope" },
			`tls.identitySecret: references unknown secret "identity_cert:secret:nope"`},
		{"identity and certificates", func(fc *ir.FilterChain) { fc.TLS.CertificateSecrets = []string{"cert"} },
			"tls.identitySecret: cannot be set together with certificateSecrets"},
		{"ALPN match on plain text", func(fc *ir.FilterChain) { fc.TransportProtocolTLS = false },
			"applicationProtocols: requires transportProtocolTLS"},
		{"empty ALPN match", func(fc *ir.FilterChain) { fc.ApplicationProtocols = []string{""} },
			"applicationProtocols[0]: must not be empty"},
		{"forwarding without client certs", func(fc *ir.FilterChain) { fc.TLS = nil; fc.TransportProtocolTLS = true },
			"http.forwardClientCert: requires tls.requireClientCert"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := crossMeshProxy(t)
			c.mutate(httpChain(p))
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "listeners[0].filterChains[0]."+c.want)
		})
	}
}

// The ALPN match is part of what makes two chains distinct.
func TestValidateALPNDistinguishesChains(t *testing.T) {
	p := validProxy()
	l := &p.Listeners[0]
	a := l.FilterChains[0]
	a.Name, a.TransportProtocolTLS = "a", true
	b := a
	b.Name, b.ApplicationProtocols = "b", []string{"kuma"}
	b.HTTP = &ir.HTTPConnectionManager{StatPrefix: "gw", RouteConfig: ir.RouteConfig{Name: "b"}}
	l.FilterChains = []ir.FilterChain{a, b}
	require.NoError(t, p.Validate())
	b.ApplicationProtocols = nil
	l.FilterChains = []ir.FilterChain{a, b}
	assert.ErrorContains(t, p.Validate(), "matches the same connections as")
}
