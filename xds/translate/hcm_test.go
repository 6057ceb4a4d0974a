package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func translateHCM(t *testing.T, h ir.HTTPConnectionManager) *hcmv3.HttpConnectionManager {
	t.Helper()
	f, err := hcmFilter(h)
	require.NoError(t, err)
	requireValid(t, f)
	assert.Equal(t, wellknown.HTTPConnectionManager, f.GetName())
	out := unpack(t, f.GetTypedConfig(), &hcmv3.HttpConnectionManager{})
	requireValid(t, out)
	return out
}

func TestHCMEdgeSettings(t *testing.T) {
	h := *fixture().Listeners[1].FilterChains[0].HTTP
	out := translateHCM(t, h)

	assert.Equal(t, "gw", out.GetStatPrefix())
	rds := out.GetRds()
	assert.Equal(t, "gw:HTTP:8080:*", rds.GetRouteConfigName())
	assert.Equal(t, corev3.ApiVersion_V3, rds.GetConfigSource().GetResourceApiVersion())
	assert.NotNil(t, rds.GetConfigSource().GetAds())
	assert.Equal(t, "Kuma Gateway", out.GetServerName())
	assert.True(t, out.GetUseRemoteAddress().GetValue())
	assert.True(t, out.GetNormalizePath().GetValue())
	assert.True(t, out.GetMergeSlashes())
	assert.Equal(t, hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT, out.GetPathWithEscapedSlashesAction())
	assert.Equal(t, 500*time.Millisecond, out.GetRequestHeadersTimeout().AsDuration())
	assert.Equal(t, 5*time.Second, out.GetStreamIdleTimeout().AsDuration())
	assert.Equal(t, 300*time.Second, out.GetCommonHttpProtocolOptions().GetIdleTimeout().AsDuration())
	assert.Equal(t, corev3.HttpProtocolOptions_REJECT_REQUEST, out.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction())

	h2 := out.GetHttp2ProtocolOptions()
	assert.Equal(t, uint32(100), h2.GetMaxConcurrentStreams().GetValue())
	assert.Equal(t, uint32(65536), h2.GetInitialStreamWindowSize().GetValue())
	assert.Equal(t, uint32(1048576), h2.GetInitialConnectionWindowSize().GetValue())
	assert.True(t, h2.GetAllowConnect())

	cidrs := out.GetInternalAddressConfig().GetCidrRanges()
	require.Len(t, cidrs, 2)
	assert.Equal(t, "127.0.0.1", cidrs[0].GetAddressPrefix())
	assert.Equal(t, uint32(32), cidrs[0].GetPrefixLen().GetValue())
	assert.Equal(t, "::1", cidrs[1].GetAddressPrefix())
	assert.Equal(t, uint32(128), cidrs[1].GetPrefixLen().GetValue())

	require.Len(t, out.GetHttpFilters(), 1)
	assert.Equal(t, wellknown.Router, out.GetHttpFilters()[0].GetName())
	unpack(t, out.GetHttpFilters()[0].GetTypedConfig(), &routerv3.Router{})
}

func TestHCMOmitsZeroValues(t *testing.T) {
	out := translateHCM(t, ir.HTTPConnectionManager{StatPrefix: "gw", RouteConfig: ir.RouteConfig{Name: "rc"}})

	assert.Nil(t, out.GetRequestHeadersTimeout())
	assert.Nil(t, out.GetStreamIdleTimeout())
	assert.Nil(t, out.GetCommonHttpProtocolOptions().GetIdleTimeout())
	assert.Equal(t, corev3.HttpProtocolOptions_REJECT_REQUEST, out.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction())
	h2 := out.GetHttp2ProtocolOptions()
	assert.Nil(t, h2.GetMaxConcurrentStreams())
	assert.Nil(t, h2.GetInitialStreamWindowSize())
	assert.Nil(t, h2.GetInitialConnectionWindowSize())
	assert.True(t, h2.GetAllowConnect())
	assert.Nil(t, out.GetInternalAddressConfig(), "Envoy's RFC1918 default applies")
	assert.Empty(t, out.GetServerName())
}

func TestHCMChainReturnsItsRouteConfig(t *testing.T) {
	fc := fixture().Listeners[1].FilterChains[0]
	out, rc, err := filterChain(fc, nil)
	require.NoError(t, err)
	requireValid(t, out, rc)
	assert.Equal(t, "gw:HTTP:8080:*", rc.GetName())
	hcm := unpack(t, out.GetFilters()[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{})
	assert.Equal(t, rc.GetName(), hcm.GetRds().GetRouteConfigName())
}
