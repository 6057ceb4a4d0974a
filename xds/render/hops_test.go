package render_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

func hopNames(hops []render.Hop) []string {
	out := make([]string, len(hops))
	for i, h := range hops {
		out[i] = h.Mesh + "/" + h.Dataplane
	}
	return out
}

func TestFollowCrossMesh(t *testing.T) {
	m, err := render.Load([]string{"../../examples/crossmesh"})
	require.NoError(t, err)
	network := build.PreviewNetwork(m)
	vip, ok := network.Resolve("shop", "payments.mesh")
	require.True(t, ok, "payments.mesh has a VIP")
	_, ok = network.Resolve("payments", "payments.mesh")
	assert.True(t, ok, "cross-mesh names resolve in every mesh")
	_, ok = network.Resolve("shop", "nowhere.mesh")
	assert.False(t, ok)
	opts := render.FollowOptions{Options: build.DefaultOptions(), Network: network}

	t.Run("checkout through the gateway to payments-api", func(t *testing.T) {
		hops, err := render.Follow(m, "shop", "checkout-1", explain.Request{Port: 8080, Address: vip.String(), Host: "payments.mesh", Path: "/"}, opts)
		require.NoError(t, err)
		require.Equal(t, []string{"shop/checkout-1", "payments/payments-gateway-1", "payments/payments-api-1"}, hopNames(hops))

		consumer := hops[0].Result
		assert.True(t, consumer.Outbound)
		require.Len(t, consumer.Action.Forward, 1)
		assert.Equal(t, "payments-gateway{port=8080}_payments", consumer.Action.Forward[0].Cluster)

		gw := hops[1]
		assert.Equal(t, "10.0.1.10", gw.Request.Address)
		assert.Equal(t, uint32(8080), gw.Request.Port)
		assert.Equal(t, "payments-gateway{mesh=payments,port=8080}", gw.Request.SNI)
		assert.Equal(t, []string{"kuma"}, gw.Request.ALPN)
		require.NotNil(t, gw.Request.Source)
		assert.Equal(t, []string{"spiffe://shop/checkout", "kuma://kuma.io/protocol/http", "kuma://kuma.io/service/checkout"}, gw.Request.Source.URIs)
		require.NotNil(t, gw.Result.TLS)
		assert.True(t, gw.Result.TLS.Accepted)
		assert.Equal(t, []string{"payments", "shop"}, gw.Result.TLS.TrustDomains)
		require.Len(t, gw.Result.RBAC, 1)
		assert.True(t, gw.Result.RBAC[0].Allowed)
		assert.Equal(t, "shop-checkout-to-gateway", gw.Result.RBAC[0].Policy)
		assert.Equal(t, "payments-api", gw.Result.Route.Name)

		api := hops[2]
		assert.Equal(t, "10.0.1.20", api.Request.Address)
		assert.Equal(t, []string{"spiffe://payments/payments-gateway", "kuma://kuma.io/service/payments-gateway"}, api.Request.Source.URIs)
		assert.Contains(t, api.Request.Headers, explain.Header{Name: "x-kuma-tags", Value: "&kuma.io/service=payments-gateway&"}, "the gateway's request headers travel on")
		assert.True(t, api.Result.TLS.Accepted)
		assert.Equal(t, "gateway-to-api", api.Result.RBAC[0].Policy)
		assert.Equal(t, "localhost:9000", api.Result.Action.Forward[0].Cluster)
		assert.Equal(t, "STATIC", api.Result.Action.Forward[0].Type)

		text := render.HopsText(hops)
		assert.Contains(t, text, "hop 2  payments/payments-gateway-1  (10.0.1.10:8080)\n")
		assert.Contains(t, text, "rbac             allowed by shop-checkout-to-gateway (principal spiffe://shop/checkout")
		assert.Contains(t, text, "rbac             allowed by gateway-to-api (principal spiffe://payments/payments-gateway)\n")
	})

	t.Run("cart's explicit outbound is denied at the gateway", func(t *testing.T) {
		hops, err := render.Follow(m, "shop", "cart-1", explain.Request{Port: 9080, Host: "payments.mesh", Path: "/"}, opts)
		require.NoError(t, err)
		require.Equal(t, []string{"shop/cart-1", "payments/payments-gateway-1"}, hopNames(hops))
		gw := hops[1].Result
		assert.True(t, gw.TLS.Accepted, "shop is a trusted trust domain")
		require.Len(t, gw.RBAC, 1)
		assert.False(t, gw.RBAC[0].Allowed)
		assert.Equal(t, []string{"shop-checkout-to-gateway"}, gw.RBAC[0].Considered)
		assert.True(t, gw.Action.Close)
		assert.Contains(t, render.HopsText(hops), "rbac          denied: no policy admits spiffe://shop/cart (considered: shop-checkout-to-gateway)\n")
	})

	t.Run("a gateway request is explained where it arrives", func(t *testing.T) {
		req := explain.Request{Port: 8080, Host: "payments.mesh", Path: "/", TLS: true, ALPN: []string{"kuma"}, Source: &explain.Peer{URIs: []string{"spiffe://shop/checkout"}}}
		o := opts
		o.OutboundOnly = true
		hops, err := render.Follow(m, "payments", "payments-gateway-1", req, o)
		require.NoError(t, err)
		assert.Equal(t, []string{"payments/payments-gateway-1"}, hopNames(hops))

		o.OutboundOnly = false
		hops, err = render.Follow(m, "payments", "payments-gateway-1", req, o)
		require.NoError(t, err)
		assert.Equal(t, []string{"payments/payments-gateway-1", "payments/payments-api-1"}, hopNames(hops))

		o.MaxHops = 1
		hops, err = render.Follow(m, "payments", "payments-gateway-1", req, o)
		require.NoError(t, err)
		assert.Len(t, hops, 1)
	})
}

func TestFollowDelegated(t *testing.T) {
	m, err := render.Load([]string{"../../examples/delegated"})
	require.NoError(t, err)
	network := build.PreviewNetwork(m)
	opts := render.FollowOptions{Options: build.DefaultOptions(), Network: network}
	for _, tc := range []struct {
		host    string
		hops    []string
		allowed bool
	}{
		{"web.mesh", []string{"default/kong-1", "default/web-1"}, true},
		{"orders.mesh", []string{"default/kong-1", "default/orders-1"}, true},
		// Only orders may call ledger.
		{"ledger.mesh", []string{"default/kong-1", "default/ledger-1"}, false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			ip, ok := network.Resolve("default", tc.host)
			require.True(t, ok)
			hops, err := render.Follow(m, "default", "kong-1", explain.Request{Port: 80, Address: ip.String(), Host: tc.host, Path: "/"}, opts)
			require.NoError(t, err)
			require.Equal(t, tc.hops, hopNames(hops))
			last := hops[len(hops)-1]
			require.Len(t, last.Result.RBAC, 1)
			assert.Equal(t, tc.allowed, last.Result.RBAC[0].Allowed)
			assert.Equal(t, []string{"spiffe://default/kong", "kuma://kuma.io/service/kong"}, last.Request.Source.URIs)
		})
	}

	// The external service is not a dataplane: the request leaves the mesh there.
	ip, ok := network.Resolve("default", "httpbin.mesh")
	require.True(t, ok)
	hops, err := render.Follow(m, "default", "kong-1", explain.Request{Port: 443, Address: ip.String(), Host: "httpbin.mesh"}, opts)
	require.NoError(t, err)
	require.Len(t, hops, 1)
	assert.False(t, hops[0].Result.Action.Forward[0].TLS.Verified)

	// A VIP is a VIP of one mesh: the name is not published anywhere else.
	_, ok = network.Resolve("other", "web.mesh")
	assert.False(t, ok)
	assert.True(t, netip.MustParseAddr(ip.String()).IsValid())
}

func TestPeerOf(t *testing.T) {
	m, err := render.Load([]string{"../../examples/crossmesh"})
	require.NoError(t, err)
	p, err := render.PeerOf(m, "payments", "payments-gateway-1")
	require.NoError(t, err)
	assert.Equal(t, &explain.Peer{URIs: []string{"spiffe://payments/payments-gateway", "kuma://kuma.io/service/payments-gateway"}, TrustDomain: "payments"}, p)
	_, err = render.PeerOf(m, "payments", "nope")
	assert.Error(t, err)
}
