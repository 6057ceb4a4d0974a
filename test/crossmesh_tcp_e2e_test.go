package test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/explain"
)

// crossMeshTCPOther is a third mTLS mesh whose analytics service connects to the PostgreSQL
// that mesh data shares only with shop.
const crossMeshTCPOther = `
type: Mesh
name: other
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: other
name: analytics-1
networking:
  address: 10.0.5.10
  inbound: [{port: 8080, tags: {kuma.io/service: analytics, kuma.io/protocol: http}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
`

// exampleDir is every file of an examples/ directory as one multi-document body.
func exampleDir(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "examples", dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var docs []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		docs = append(docs, string(raw))
	}
	return strings.Join(docs, "\n---\n")
}

// TestCrossMeshTCPOverADS (issue 16): mesh data shares PostgreSQL with mesh shop through a
// cross-mesh TCP listener (examples/crossmesh-tcp). Over real ADS streams: the transparent
// consumer's VIP listener and the explicit consumer's 127.0.0.1:15432 both tunnel to the
// gateway over mTLS; the gateway's TCP listener validates each caller against its own mesh's
// bundle (a real handshake with the consumer's SVID) and its network RBAC, evaluated on what
// the gateway was served, admits shop's orders and refuses shop's reports and mesh other.
func TestCrossMeshTCPOverADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(exampleDir(t, "crossmesh-tcp")+"\n---\n"+crossMeshTCPOther))
	require.Equal(t, http.StatusOK, code, string(body))

	conn := dialADS(t, cp.addrs.XDS)
	envoy := func(mesh, name string) *miniEnvoy {
		e := newMiniEnvoy(t, newSotW(t, conn, mesh+"."+name, tokenFor(t, cp, mesh, name)))
		e.start()
		return e
	}
	gw, orders, reports, analytics := envoy("data", "data-gateway-1"), envoy("shop", "orders-1"), envoy("shop", "reports-1"), envoy("other", "analytics-1")

	const cluster, sni, gatewayID = "data-gateway{port=5432}_data", "data-gateway{mesh=data,port=5432}", "spiffe://data/data-gateway"
	vip := resolveVIP(t, cp, "postgres.data.mesh")
	for _, c := range []struct {
		e        *miniEnvoy
		listener string
	}{{orders, "outbound:" + vip + ":5432"}, {reports, "outbound:127.0.0.1:15432"}} {
		l := c.e.listeners[c.listener]
		require.NotNil(t, l, "%s listeners: %v", c.e.c.node.Id, sortedKeys(c.e.listeners))
		require.NotNil(t, tcpProxyOf(t, l.GetFilterChains()[0]), "%s: a TCP tunnel, whatever the protocol inside", c.listener)
		assert.Equal(t, cluster, outboundCluster(t, l))
		up := upstreamTLS(t, c.e.clusters[cluster])
		assert.Equal(t, sni, up.GetSni())
		assert.Equal(t, []string{gatewayID}, sanExact(up))
		assert.Equal(t, []string{"10.0.3.10:5432"}, endpointAddrs(c.e.endpoints[cluster]))
	}

	// The gateway trusts shop (and other) by their own bundles; a real handshake with orders'
	// SVID, each side validating as its Envoy is told to.
	const listener = "data-gateway:TCP:5432"
	shopTrusted := spiffeTrustBundle(t, gw, listener, "shop")
	require.NotEmpty(t, shopTrusted)
	dataCA := orders.secrets["mesh_ca:secret:data"].GetValidationContext().GetTrustedCa().GetInlineString()
	mtlsHandshake(t, orders.secrets["identity_cert:secret:shop"], dataCA, sni, gatewayID,
		gw.secrets["identity_cert:secret:data"], shopTrusted, "spiffe://shop/orders")

	// RBAC on what the gateway was served: each caller presents the URIs of its real SVID.
	served := &envoyres.Resources{}
	for _, l := range gw.listeners {
		served.Listeners = append(served.Listeners, l)
	}
	for _, c := range gw.clusters {
		served.Clusters = append(served.Clusters, c)
	}
	for _, e := range gw.endpoints {
		served.Endpoints = append(served.Endpoints, e)
	}
	for _, s := range gw.secrets {
		served.Secrets = append(served.Secrets, s)
	}
	caller := func(e *miniEnvoy, mesh string) *explain.Result {
		chain := svidChain(t, e.secrets["identity_cert:secret:"+mesh])
		res, err := explain.Explain(served, explain.Request{Port: 5432, TLS: true, SNI: sni, ALPN: []string{"kuma"},
			Source: &explain.Peer{URIs: uriStrings(chain[0])}})
		require.NoError(t, err)
		require.NotNil(t, res.TLS)
		require.True(t, res.TLS.Accepted, "%s: its mesh's bundle is trusted", e.c.node.Id)
		return res
	}
	res := caller(orders, "shop")
	require.Len(t, res.RBAC, 1)
	assert.True(t, res.RBAC[0].Allowed)
	assert.Equal(t, "shop-orders-to-postgres", res.RBAC[0].Policy)
	require.NotNil(t, res.Action)
	require.Len(t, res.Action.Forward, 1)
	assert.Equal(t, "postgres", res.Action.Forward[0].Cluster)
	for _, denied := range []struct {
		e    *miniEnvoy
		mesh string
	}{{reports, "shop"}, {analytics, "other"}} {
		res := caller(denied.e, denied.mesh)
		require.Len(t, res.RBAC, 1)
		assert.False(t, res.RBAC[0].Allowed, "%s must be refused", denied.e.c.node.Id)
		assert.True(t, res.Action.Close, "%s: Envoy closes the connection", denied.e.c.node.Id)
	}
}
