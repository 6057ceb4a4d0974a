package translate

import (
	"testing"
	"time"

	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

// Kuma's gateway compressor (docs/kuma-compatibility.md#edge-http-settings): gzip with the library's defaults, responses with an
// ETag left alone, after the rate limit filter and right before the router.
func TestCompressorBeforeRouter(t *testing.T) {
	h := *fixture().Listeners[1].FilterChains[0].HTTP
	h.Compression = true
	out := translateHCM(t, h)
	fs := out.GetHttpFilters()
	require.Len(t, fs, 2)
	assert.Equal(t, []string{"gzip-compress", wellknown.Router}, []string{fs[0].GetName(), fs[1].GetName()})
	c := unpack(t, fs[0].GetTypedConfig(), &compressorv3.Compressor{})
	requireValid(t, c)
	assert.Equal(t, "gzip", c.GetCompressorLibrary().GetName())
	gz := unpack(t, c.GetCompressorLibrary().GetTypedConfig(), &gzipv3.Gzip{})
	assert.Equal(t, gzipv3.Gzip_DEFAULT_COMPRESSION, gz.GetCompressionLevel(), "gzip keeps its defaults")
	assert.True(t, c.GetResponseDirectionConfig().GetDisableOnEtagHeader())
	assert.Nil(t, c.GetResponseDirectionConfig().GetCommonConfig(), "Kuma leaves the common config at Envoy's defaults")
	assert.Nil(t, c.GetRequestDirectionConfig(), "requests are never compressed")

	// With a rate-limited route the order is Kuma's: rate limit, compressor, router.
	h.RouteConfig.VirtualHosts[0].Routes[0].Forward.RateLimit = &ir.LocalRateLimit{Requests: 1, Interval: time.Second}
	assert.Equal(t, []string{localRateLimitFilter, "gzip-compress", wellknown.Router}, httpFilterNames(translateHCM(t, h)))

	// Sidecars (and gateways built without it) get none.
	h.Compression = false
	assert.NotContains(t, httpFilterNames(translateHCM(t, h)), "gzip-compress")
}
