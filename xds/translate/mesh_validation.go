package translate

import (
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// meshBundleValidation validates clients of a sidecar inbound against its own mesh's trust
// bundle, delivered over SDS, and requires a URI SAN under sanPrefix (`spiffe://<mesh>/`). The
// SAN matcher lives in the default context; Envoy merges it with the bundle from the secret.
func meshBundleValidation(secret, sanPrefix string) *tlsv3.CommonTlsContext_CombinedValidationContext {
	return &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext: &tlsv3.CertificateValidationContext{
				MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
					SanType: tlsv3.SubjectAltNameMatcher_URI,
					Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: sanPrefix}},
				}},
			},
			ValidationContextSdsSecretConfig: sdsSecret(secret),
		},
	}
}
