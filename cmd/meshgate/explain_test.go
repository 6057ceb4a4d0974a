package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	crossmeshExample = "../../examples/crossmesh"
	delegatedExample = "../../examples/delegated"
)

// A request leaving a transparent sidecar for a .mesh name: the host resolves to its VIP and
// the request is followed through the cross-mesh gateway to the backend.
func TestExplainFollowsCrossMesh(t *testing.T) {
	out, stderr, code := runCLI(t, "explain", "-f", crossmeshExample, "--dataplane", "shop/checkout-1",
		"--port", "8080", "--host", "payments.mesh", "--path", "/")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "hop 1  shop/checkout-1\nlistener      outbound:240.0.0.1:8080  (plaintext)\n")
	assert.Contains(t, out, "upstream tls  presents identity_cert:secret:shop; requires spiffe://payments/payments-gateway (mesh_ca:secret:payments)\n")
	assert.Contains(t, out, "\nhop 2  payments/payments-gateway-1  (10.0.1.10:8080)\n")
	assert.Contains(t, out, "tls              requires a client certificate: mesh_ca:secret:all (SPIFFE validator: payments, shop)\n")
	assert.Contains(t, out, "peer             spiffe://shop/checkout  (trust domain shop: trusted)\n")
	assert.Contains(t, out, "rbac             allowed by shop-checkout-to-gateway (principal spiffe://shop/checkout")
	assert.Contains(t, out, "\nhop 3  payments/payments-api-1  (10.0.1.20:8080)\n")
	assert.Contains(t, out, "rbac             allowed by gateway-to-api (principal spiffe://payments/payments-gateway)\n")

	out, stderr, code = runCLI(t, "explain", "-f", crossmeshExample, "--dataplane", "shop/checkout-1",
		"--port", "8080", "--host", "payments.mesh", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var doc struct {
		Hops []struct {
			Mesh      string `json:"mesh"`
			Dataplane string `json:"dataplane"`
			Request   struct {
				Address string `json:"address"`
				Source  *struct {
					URIs []string `json:"uris"`
				} `json:"source"`
			} `json:"request"`
			Result struct {
				Listener string `json:"listener"`
				RBAC     []struct {
					Allowed bool   `json:"allowed"`
					Policy  string `json:"policy"`
				} `json:"rbac"`
			} `json:"result"`
		} `json:"hops"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Hops, 3)
	assert.Equal(t, "240.0.0.1", doc.Hops[0].Request.Address)
	assert.Equal(t, "payments-gateway-1", doc.Hops[1].Dataplane)
	assert.Equal(t, "spiffe://shop/checkout", doc.Hops[1].Request.Source.URIs[0])
	assert.Equal(t, "shop-checkout-to-gateway", doc.Hops[1].Result.RBAC[0].Policy)

	// --follow=false: the consumer's dataplane only, in the single-dataplane form.
	out, stderr, code = runCLI(t, "explain", "-f", crossmeshExample, "--dataplane", "shop/checkout-1",
		"--port", "8080", "--host", "payments.mesh", "--follow=false")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, out, "hop ")
	assert.Contains(t, out, "listener      outbound:240.0.0.1:8080  (plaintext)\n")
}

func TestExplainCrossMeshDenied(t *testing.T) {
	out, stderr, code := runCLI(t, "explain", "-f", crossmeshExample, "--dataplane", "shop/cart-1",
		"--port", "9080", "--host", "payments.mesh", "--path", "/")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "hop 2  payments/payments-gateway-1  (10.0.1.10:8080)\n")
	assert.Contains(t, out, "rbac          denied: no policy admits spiffe://shop/cart (considered: shop-checkout-to-gateway)\n")
	assert.Contains(t, out, "action        close the connection\n")
	assert.NotContains(t, out, "hop 3")
}

func TestExplainInboundWithSource(t *testing.T) {
	out, stderr, code := runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/web-1",
		"--port", "8080", "--host", "web.mesh", "--path", "/", "--source", "default/kong-1")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, out, "hop ", "an inbound request is explained where it arrives")
	assert.Contains(t, out, "peer             spiffe://default/kong  (trust domain default: trusted)\n")
	assert.Contains(t, out, "rbac             allowed by kong-to-web-and-orders (principal spiffe://default/kong)\n")
	// web-1 declares no serviceAddress: the application is on the dataplane's own address.
	assert.Contains(t, out, "cluster          STATIC 10.0.0.10:8080\n")
	// x-kuma-tags served the sidecar; the application never sees it.
	assert.Contains(t, out, "request headers  remove x-kuma-tags\n")

	out, stderr, code = runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/ledger-1",
		"--port", "5432", "--source-uri", "spiffe://default/kong", "--source-uri", "kuma://kuma.io/service/kong")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "rbac          denied: no policy admits spiffe://default/kong (considered: orders-to-ledger)\n")

	out, _, code = runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/web-1", "--port", "8080", "--host", "web.mesh")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "peer          none: client certificate required\n")

	_, stderr, code = runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/web-1", "--port", "8080", "--host", "web.mesh", "--source", "default/nobody")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "--source: dataplane default/nobody not found")
}

func TestExplainResolvesMeshNames(t *testing.T) {
	// kong-1 has four outbounds on port 80: the .mesh host picks one by its VIP.
	out, stderr, code := runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/kong-1",
		"--port", "80", "--host", "orders.mesh", "--follow=false")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "virtual host     orders\n")

	// A name that is not published: port alone is ambiguous.
	_, stderr, code = runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/kong-1", "--port", "80", "--host", "example.com")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "several listeners are on port 80")

	// --address wins: nothing there, so the passthrough chain.
	out, stderr, code = runCLI(t, "explain", "-f", delegatedExample, "--dataplane", "default/kong-1",
		"--port", "80", "--host", "example.com", "--address", "203.0.113.1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "cluster       ORIGINAL_DST (the connection's original destination)\n")
}
