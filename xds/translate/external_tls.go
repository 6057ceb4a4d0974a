package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/meshgate/meshgate/xds/ir"
)

// externalTLS originates TLS to a server outside the mesh: the SNI, an inline validation
// context (the CA, and the exact DNS SAN when VerifySAN is set), an inline client certificate
// when one is given, and the ALPN. Without a CA there is no validation context at all: the
// server is not verified (IR validation allows this only with AllowInsecure, and Envoy refuses
// SAN checks without a trusted CA).
func externalTLS(t ir.UpstreamTLS) (*corev3.TransportSocket, error) {
	common := &tlsv3.CommonTlsContext{AlpnProtocols: append([]string(nil), t.ALPN...)}
	if t.CA != "" {
		vc := &tlsv3.CertificateValidationContext{TrustedCa: inlineString(t.CA)}
		if t.VerifySAN != "" {
			vc.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{
				SanType: tlsv3.SubjectAltNameMatcher_DNS,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: t.VerifySAN}},
			}}
		}
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	}
	if t.ClientCertificate != "" {
		common.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: inlineString(t.ClientCertificate),
			PrivateKey:       inlineString(t.ClientKey),
		}}
	}
	return tlsSocket(&tlsv3.UpstreamTlsContext{Sni: t.SNI, CommonTlsContext: common})
}

func inlineString(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}
