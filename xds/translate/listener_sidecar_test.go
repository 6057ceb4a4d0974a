package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestTrafficDirection(t *testing.T) {
	cases := []struct {
		in   ir.Direction
		want corev3.TrafficDirection
	}{
		{"", corev3.TrafficDirection_INBOUND},
		{ir.DirectionInbound, corev3.TrafficDirection_INBOUND},
		{ir.DirectionOutbound, corev3.TrafficDirection_OUTBOUND},
	}
	for _, c := range cases {
		t.Run(string(c.in), func(t *testing.T) {
			assert.Equal(t, c.want, trafficDirection(c.in))
		})
	}
}

// Gateway listeners leave Direction empty and keep the gateway settings.
func TestGatewayListenersAreNotSidecars(t *testing.T) {
	for _, l := range fixture().Listeners {
		assert.False(t, sidecarListener(l), l.Name)
		out, _, err := listener(l)
		require.NoError(t, err)
		assert.Equal(t, corev3.TrafficDirection_INBOUND, out.GetTrafficDirection())
		assert.Equal(t, uint32(bufferLimit), out.GetPerConnectionBufferLimitBytes().GetValue())
		assert.True(t, out.GetEnableReusePort().GetValue())
		require.Len(t, out.GetListenerFilters(), 1)
		assert.Nil(t, out.GetBindToPort())
		assert.Nil(t, out.GetUseOriginalDst())
	}
}

func TestSidecarListenerClassification(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*ir.Listener)
		want   bool
	}{
		{"gateway", func(*ir.Listener) {}, false},
		{"explicit inbound (plain-TCP sidecar inbound)", func(l *ir.Listener) { l.Direction = ir.DirectionInbound }, true},
		{"outbound", func(l *ir.Listener) { l.Direction = ir.DirectionOutbound }, true},
		{"virtual", func(l *ir.Listener) { l.Virtual = true }, true},
		{"redirect", func(l *ir.Listener) { l.UseOriginalDst = true }, true},
		{"rbac alone (cross-mesh gateway)", func(l *ir.Listener) { l.FilterChains[0].RBAC = &ir.RBAC{StatPrefix: "x"} }, false},
		{"validating clients alone (cross-mesh gateway)", func(l *ir.Listener) {
			l.FilterChains[0].TLS = &ir.DownstreamTLS{IdentitySecret: "id", RequireClientCert: true, ValidationSecret: "mesh_ca:secret:all"}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := fixture().Listeners[1]
			c.mutate(&l)
			assert.Equal(t, c.want, sidecarListener(l))
		})
	}
}

func TestSidecarListenerOptions(t *testing.T) {
	tcp := func(name string) ir.FilterChain {
		return ir.FilterChain{Name: name, TCP: &ir.TCPProxy{StatPrefix: "s", Clusters: []ir.WeightedCluster{{Name: "db", Weight: 1}}}}
	}
	cases := []struct {
		name          string
		listener      ir.Listener
		wantBind      bool // bind_to_port set to false
		wantOrigDst   bool
		wantInspector bool
	}{
		{"outbound plain", ir.Listener{Direction: ir.DirectionOutbound, FilterChains: []ir.FilterChain{tcp("a")}}, false, false, false},
		{"outbound virtual", ir.Listener{Direction: ir.DirectionOutbound, Virtual: true, FilterChains: []ir.FilterChain{tcp("a")}}, true, false, false},
		{"outbound matching SNI", ir.Listener{Direction: ir.DirectionOutbound, FilterChains: []ir.FilterChain{
			func() ir.FilterChain { fc := tcp("a"); fc.ServerNames = []string{"a.example.com"}; return fc }(), tcp("b"),
		}}, false, false, true},
		{"inbound matching TLS", ir.Listener{Virtual: true, FilterChains: []ir.FilterChain{
			func() ir.FilterChain { fc := tcp("a"); fc.TransportProtocolTLS = true; return fc }(),
		}}, true, false, true},
		{"redirect", ir.Listener{Direction: ir.DirectionOutbound, UseOriginalDst: true, DefaultChain: ptr(tcp("d"))}, false, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := c.listener
			l.Name, l.Address, l.Port, l.Protocol = "l", "10.0.0.1", 80, ir.TCP
			out, rcs, err := listener(l)
			require.NoError(t, err)
			requireValid(t, out)
			assert.Empty(t, rcs)
			assert.True(t, sidecarListener(l))
			assert.Nil(t, out.GetPerConnectionBufferLimitBytes())
			assert.Nil(t, out.GetEnableReusePort())
			if c.wantBind {
				require.NotNil(t, out.GetBindToPort())
				assert.False(t, out.GetBindToPort().GetValue())
			} else {
				assert.Nil(t, out.GetBindToPort())
			}
			if c.wantOrigDst {
				assert.True(t, out.GetUseOriginalDst().GetValue())
				assert.Equal(t, "d", out.GetDefaultFilterChain().GetName())
			} else {
				assert.Nil(t, out.GetUseOriginalDst())
				assert.Nil(t, out.GetDefaultFilterChain())
			}
			if c.wantInspector {
				require.Len(t, out.GetListenerFilters(), 1)
				assert.Equal(t, wellknown.TlsInspector, out.GetListenerFilters()[0].GetName())
			} else {
				assert.Empty(t, out.GetListenerFilters())
			}
		})
	}
}

// The default chain is a chain like the others: it gets the listener-wide filters, and an HTTP
// default chain's route configuration is returned for RDS.
func TestDefaultChainGetsListenerFiltersAndRoutes(t *testing.T) {
	l := fixture().Listeners[1] // HTTP, connection limit 100
	chain := l.FilterChains[0]
	l.FilterChains = nil
	l.UseOriginalDst, l.DefaultChain = true, &chain
	out, rcs, err := listener(l)
	require.NoError(t, err)
	requireValid(t, out)
	require.Len(t, rcs, 1)
	assert.Equal(t, "gw:HTTP:8080:*", rcs[0].GetName())
	dc := out.GetDefaultFilterChain()
	require.NotNil(t, dc)
	assert.Equal(t, []string{"envoy.filters.network.connection_limit", wellknown.HTTPConnectionManager}, filterNames(dc))
}

func ptr[T any](v T) *T { return &v }
