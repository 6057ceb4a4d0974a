package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestListener(t *testing.T) {
	l := fixture().Listeners[0]
	out, rcs, err := listener(l)
	require.NoError(t, err)
	requireValid(t, out)

	assert.Equal(t, "gw:TLS:8443", out.GetName())
	sa := out.GetAddress().GetSocketAddress()
	assert.Equal(t, corev3.SocketAddress_TCP, sa.GetProtocol())
	assert.Equal(t, "10.0.0.1", sa.GetAddress())
	assert.Equal(t, uint32(8443), sa.GetPortValue())
	assert.Equal(t, corev3.TrafficDirection_INBOUND, out.GetTrafficDirection())
	assert.Equal(t, uint32(32768), out.GetPerConnectionBufferLimitBytes().GetValue())
	assert.True(t, out.GetEnableReusePort().GetValue())

	require.Len(t, out.GetListenerFilters(), 1)
	lf := out.GetListenerFilters()[0]
	assert.Equal(t, wellknown.TlsInspector, lf.GetName())
	unpack(t, lf.GetTypedConfig(), &tlsinspectorv3.TlsInspector{})

	require.Len(t, out.GetFilterChains(), 2)
	assert.Equal(t, "gw:TLS:8443:a.example.com", out.GetFilterChains()[0].GetName(), "chains keep IR order")
	assert.Equal(t, "gw:TLS:8443:*", out.GetFilterChains()[1].GetName())
	assert.Empty(t, rcs, "TCP chains reference no route configuration")
	for _, fc := range out.GetFilterChains() {
		require.Len(t, fc.GetFilters(), 1, "no connection limit filter without a limit")
		assert.Equal(t, wellknown.TCPProxy, fc.GetFilters()[0].GetName())
	}
}

func TestListenerConnectionLimitLeadsEveryChain(t *testing.T) {
	l := fixture().Listeners[1]
	l.FilterChains = append(l.FilterChains, ir.FilterChain{
		Name: "second", ServerNames: []string{"b"},
		TCP: &ir.TCPProxy{StatPrefix: "gw", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}}},
	})
	out, rcs, err := listener(l)
	require.NoError(t, err)
	requireValid(t, out)
	require.Len(t, rcs, 1)
	assert.Equal(t, "gw:HTTP:8080:*", rcs[0].GetName())

	require.Len(t, out.GetFilterChains(), 2)
	for _, fc := range out.GetFilterChains() {
		require.Len(t, fc.GetFilters(), 2)
		first := fc.GetFilters()[0]
		assert.Equal(t, "envoy.filters.network.connection_limit", first.GetName())
		cl := unpack(t, first.GetTypedConfig(), &connlimitv3.ConnectionLimit{})
		assert.Equal(t, uint64(100), cl.GetMaxConnections().GetValue())
		assert.Equal(t, "gw:HTTP:8080", cl.GetStatPrefix())
	}
	assert.Equal(t, wellknown.HTTPConnectionManager, out.GetFilterChains()[0].GetFilters()[1].GetName())
	assert.Equal(t, wellknown.TCPProxy, out.GetFilterChains()[1].GetFilters()[1].GetName())
}

func TestListenerIPv6(t *testing.T) {
	l := fixture().Listeners[0]
	l.Address = "::"
	out, _, err := listener(l)
	require.NoError(t, err)
	requireValid(t, out)
	assert.Equal(t, "::", out.GetAddress().GetSocketAddress().GetAddress())
}
