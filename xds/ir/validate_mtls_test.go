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
	p.Secrets = append(p.Secrets,
		ir.Secret{Name: "identity_cert:secret:default", CertificateChain: "chain", PrivateKey: "key"},
		ir.Secret{Name: "mesh_ca:secret:all", SPIFFETrustDomains: map[string]string{"default": bundle, "other": bundle}})
	fc := httpChain(p)
	fc.TransportProtocolTLS = true
	fc.ApplicationProtocols = []string{"kuma"}
	fc.TLS = &ir.DownstreamTLS{
		IdentitySecret: "identity_cert:secret:default", ALPN: []string{"kuma"}, RequireClientCert: true,
		ValidationSecret: "mesh_ca:secret:all",
	}
	fc.HTTP.ForwardClientCert = true
	return p
}

func TestValidateSPIFFEValidatorSecret(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(map[string]string)
		want   string
	}{
		{"bad trust domain", func(d map[string]string) { d["Bad Mesh"] = d["default"] },
			`spiffeTrustDomains["Bad Mesh"]: not a SPIFFE trust domain`},
		{"bundle not PEM", func(d map[string]string) { d["other"] = "nope" },
			`spiffeTrustDomains["other"]: bundle holds no PEM certificate`},
		{"bundle with a key", func(d map[string]string) {
			d["other"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}, `spiffeTrustDomains["other"]: bundle holds a "PRIVATE KEY" PEM block, want only certificates`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := crossMeshProxy(t)
			c.mutate(p.Secrets[len(p.Secrets)-1].SPIFFETrustDomains)
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestValidateCrossMeshChain(t *testing.T) {
	require.NoError(t, crossMeshProxy(t).Validate())

	cases := []struct {
		name   string
		mutate func(*ir.FilterChain)
		want   string
	}{
		{"no validator", func(fc *ir.FilterChain) { fc.TLS.ValidationSecret = "" },
			"tls.validationSecret: must be set with requireClientCert"},
		{"validator without requiring certs", func(fc *ir.FilterChain) { fc.TLS.RequireClientCert = false },
			"tls.requireClientCert: must be set when validationSecret is"},
		{"SAN prefix with a SPIFFE validator", func(fc *ir.FilterChain) { fc.TLS.SANPrefix = "spiffe://default/" },
			"tls.sanPrefix: must be empty with a SPIFFE validator secret"},
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
