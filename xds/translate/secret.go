package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/meshgate/meshgate/xds/ir"
)

// secret inlines a listener's server certificate. Mesh identities and bundles are not here:
// the CA serves those by name over SDS.
func secret(s ir.Secret) (*tlsv3.Secret, error) {
	if len(s.SPIFFETrustDomains) > 0 {
		vc, err := spiffeValidation(s.SPIFFETrustDomains)
		if err != nil {
			return nil, err
		}
		return &tlsv3.Secret{Name: s.Name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: vc}}, nil
	}
	if s.TrustedCA != "" {
		return &tlsv3.Secret{
			Name: s.Name,
			Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s.TrustedCA}},
			}},
		}, nil
	}
	return &tlsv3.Secret{
		Name: s.Name,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s.CertificateChain}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s.PrivateKey}},
		}},
	}, nil
}

// Secret translates one IR secret: what the control plane needs to give one gateway replica
// its own identity alongside the configuration it shares with the others.
func Secret(s ir.Secret) (*tlsv3.Secret, error) { return secret(s) }
