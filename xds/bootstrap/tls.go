package bootstrap

import (
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/certs"
)

// controlPlaneTLS is the xDS cluster's transport socket: TLS that trusts only the control
// plane's CA and requires its certificate to name one of the control-plane addresses (a DNS SAN
// for a host name, an IP SAN for an address), so a dataplane never hands its token to anyone
// else. Envoy's default of trusting any certificate the CA signed is not enough: with a shared
// CA that would admit any holder.
//
// With several replicas each serves its own certificate, all from the one control-plane CA, and
// Envoy accepts a certificate naming any of the addresses (its SAN matchers are alternatives).
// One host name is also the SNI of every connection; several names each send their own
// (auto_host_sni: the endpoint's host name), as one cluster holds a single fixed SNI.
func controlPlaneTLS(cps []controlPlane, caPEM []byte) (*corev3.TransportSocket, error) {
	if len(caPEM) == 0 {
		return nil, errors.New("no control-plane CA to verify the xDS server: give it (`meshgate ca control-plane` prints it), " +
			"or connect in plain text to a control plane run with --xds-insecure")
	}
	if _, err := certs.ParseCertificates(caPEM); err != nil {
		return nil, fmt.Errorf("control-plane CA: %w", err)
	}
	var sans []*tlsv3.SubjectAltNameMatcher
	var names []string
	seen := map[string]bool{}
	for _, c := range cps {
		if seen[c.host] { // two ports on one host: one name to check
			continue
		}
		seen[c.host] = true
		sanType := tlsv3.SubjectAltNameMatcher_DNS
		if c.isIP() {
			sanType = tlsv3.SubjectAltNameMatcher_IP_ADDRESS
		} else {
			names = append(names, c.host)
		}
		sans = append(sans, &tlsv3.SubjectAltNameMatcher{
			SanType: sanType,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: c.host}},
		})
	}
	var sni string
	if len(names) == 1 {
		sni = names[0]
	}
	ctx := &tlsv3.UpstreamTlsContext{
		Sni:         sni,
		AutoHostSni: len(names) > 1,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsParams:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2},
			AlpnProtocols: []string{"h2"},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa:                 &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: caPEM}},
				MatchTypedSubjectAltNames: sans,
			}},
		},
	}
	typed, err := anypb.New(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed}}, nil
}
