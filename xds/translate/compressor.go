package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// compressorFilterName is the name Kuma's builtin gateway gives its compressor filter
// (envoy.filters.http.compressor, found by its type): ProxyTemplates written for Kuma that
// patch or remove it by name keep working.
const compressorFilterName = "gzip-compress"

// compressorFilter is Kuma's gateway compressor: gzip with the library's defaults, responses
// only (Envoy's defaults: at least 30 bytes, the usual text and JSON content types, a client
// that accepts gzip), and never a response with an ETag, whose compressed body would no
// longer match the entity tag the server computed.
func compressorFilter() (*hcmv3.HttpFilter, error) {
	gzip, err := toAny(&gzipv3.Gzip{})
	if err != nil {
		return nil, err
	}
	a, err := toAny(&compressorv3.Compressor{
		CompressorLibrary: &corev3.TypedExtensionConfig{Name: "gzip", TypedConfig: gzip},
		ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{
			DisableOnEtagHeader: true,
		},
	})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: compressorFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}, nil
}
