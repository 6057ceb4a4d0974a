package translate

import (
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// SPIFFEValidatorName is the extension name of Envoy's SPIFFE certificate validator.
const SPIFFEValidatorName = "envoy.tls.cert_validator.spiffe"

// spiffeValidation validates each client against the bundle of the trust domain in its own URI
// SAN. A merged bundle (Kuma's `mesh_ca:secret:all`) would let a mesh's CA vouch for SPIFFE IDs
// of another mesh; per-domain bundles make that impossible.
func spiffeValidation(domains map[string]string) (*tlsv3.CertificateValidationContext, error) {
	names := make([]string, 0, len(domains))
	for td := range domains {
		names = append(names, td)
	}
	// Sorted so the packed config, and so the snapshot version, is stable.
	sort.Strings(names)
	cfg := &tlsv3.SPIFFECertValidatorConfig{}
	for _, td := range names {
		cfg.TrustDomains = append(cfg.TrustDomains, &tlsv3.SPIFFECertValidatorConfig_TrustDomain{
			Name:        td,
			TrustBundle: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: domains[td]}},
		})
	}
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &tlsv3.CertificateValidationContext{
		CustomValidatorConfig: &corev3.TypedExtensionConfig{Name: SPIFFEValidatorName, TypedConfig: a},
	}, nil
}
