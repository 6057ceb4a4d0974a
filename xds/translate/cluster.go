package translate

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
)

// httpProtocolOptionsKey is the typed_extension_protocol_options key Envoy looks up.
var httpProtocolOptionsKey = envoyres.HTTPProtocolOptionsType

// connectTimeout is Kuma's default (from its default MeshTimeout) until timeout policies land.
const connectTimeout = 5 * time.Second

// HTTP/2 flow-control windows Kuma gives upstream HTTP/2 clusters: 64 KiB per stream, 1 MiB per
// connection, so one slow stream cannot stall the others.
const (
	upstreamStreamWindow = 65536
	upstreamConnWindow   = 1048576
)

func cluster(c ir.Cluster) (*clusterv3.Cluster, error) {
	timeout := connectTimeout
	if c.ConnectTimeout > 0 {
		timeout = c.ConnectTimeout
	}
	out := &clusterv3.Cluster{
		Name:                          c.Name,
		ConnectTimeout:                durationpb.New(timeout),
		LbPolicy:                      clusterv3.Cluster_ROUND_ROBIN,
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(bufferLimit),
		Metadata: meshgateMetadata(map[string]*structpb.Value{
			"service":     structpb.NewStringValue(c.Service),
			"destination": structpb.NewStructValue(stringStruct(c.Destination)),
		}),
	}
	discovery(out, c)
	opts, err := upstreamProtocol(c.Protocol, c.DefaultHTTP2Windows, c.Timeouts)
	if err != nil {
		return nil, err
	}
	if opts != nil {
		out.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsKey: opts}
	}
	if c.MTLS != nil {
		ts, err := upstreamTLS(*c.MTLS)
		if err != nil {
			return nil, fmt.Errorf("upstream TLS: %w", err)
		}
		out.TransportSocket = ts
	}
	if c.TLS != nil {
		ts, err := externalTLS(*c.TLS)
		if err != nil {
			return nil, fmt.Errorf("upstream TLS: %w", err)
		}
		out.TransportSocket = ts
	}
	if err := clusterPolicies(out, c); err != nil {
		return nil, err
	}
	return out, nil
}

// upstreamProtocol pins the upstream codec explicitly: the mesh sidecar in front of the service
// speaks exactly the protocol its tag declares, so Envoy must not guess. The Timeout policy's
// connection-pool limits join them; a TCP cluster has no HTTP options and ignores them.
// defaultWindows leaves HTTP/2 flow control at Envoy's defaults (Kuma's sidecar clusters).
func upstreamProtocol(p ir.ClusterProtocol, defaultWindows bool, timeouts *ir.ClusterTimeouts) (*anypb.Any, error) {
	var cfg *upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig
	switch p {
	case ir.ClusterHTTP:
		cfg = &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{
				HttpProtocolOptions: &corev3.Http1ProtocolOptions{},
			},
		}
	case ir.ClusterHTTP2:
		h2 := &corev3.Http2ProtocolOptions{
			InitialStreamWindowSize:     wrapperspb.UInt32(upstreamStreamWindow),
			InitialConnectionWindowSize: wrapperspb.UInt32(upstreamConnWindow),
		}
		if defaultWindows {
			h2 = &corev3.Http2ProtocolOptions{}
		}
		cfg = &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
				Http2ProtocolOptions: h2,
			},
		}
	default:
		return nil, nil
	}
	return toAny(&upstreamhttpv3.HttpProtocolOptions{
		CommonHttpProtocolOptions: clusterHTTPTimeouts(timeouts),
		UpstreamProtocolOptions:   &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: cfg},
	})
}

// upstreamTLS presents the gateway's mesh identity and accepts only the expected SPIFFE ID,
// validated against the upstream mesh's bundle; both secrets come from the CA over SDS.
func upstreamTLS(m ir.UpstreamMTLS) (*corev3.TransportSocket, error) {
	return tlsSocket(&tlsv3.UpstreamTlsContext{
		Sni: m.SNI,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:                  append([]string(nil), m.ALPN...),
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sdsSecret(m.IdentitySecret)},
			ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{
				CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
					DefaultValidationContext: &tlsv3.CertificateValidationContext{
						MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
							SanType: tlsv3.SubjectAltNameMatcher_URI,
							Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: m.SAN}},
						}},
					},
					ValidationContextSdsSecretConfig: sdsSecret(m.ValidationSecret),
				},
			},
		},
	})
}
