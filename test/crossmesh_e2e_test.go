package test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	mdns "github.com/miekg/dns"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
)

// crossMeshMeshes are two meshes, each with its own builtin CA.
const crossMeshMeshes = `
type: Mesh
name: payments
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: shop
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
`

// paymentsGatewayDP is the exposing gateway; %s is its address.
const paymentsGatewayDP = `
type: Dataplane
mesh: payments
name: payments-gateway-1
networking:
  address: %s
  gateway: {type: BUILTIN, tags: {kuma.io/service: payments-gateway}}
`

// crossMeshPayments: a gateway whose HTTP listener is open to every mTLS mesh at
// payments.mesh, routing to payments-api.
const crossMeshPayments = `
type: MeshGateway
mesh: payments
name: payments-gateway
selectors: [{match: {kuma.io/service: payments-gateway}}]
conf:
  listeners:
    - {port: 8080, protocol: HTTP, crossMesh: true, hostname: payments.mesh}
---
type: MeshGatewayRoute
mesh: payments
name: payments-api
selectors: [{match: {kuma.io/service: payments-gateway}}]
conf:
  http:
    rules:
      - matches: [{path: {match: PREFIX, value: /}}]
        backends: [{destination: {kuma.io/service: payments-api}}]
---
type: Dataplane
mesh: payments
name: payments-api-1
networking:
  address: 127.0.1.20
  inbound: [{port: 8080, servicePort: 9000, tags: {kuma.io/service: payments-api, kuma.io/protocol: http}}]
---
type: TrafficPermission
mesh: payments
name: shop-to-gateway
sources: [{match: {kuma.io/mesh: shop, kuma.io/service: '*'}}]
destinations: [{match: {kuma.io/service: payments-gateway}}]
`

// crossMeshShop: cart declares the gateway as an explicit outbound on 127.0.0.1:9080;
// checkout reaches payments.mesh:8080 through its VIP with transparent proxying.
const crossMeshShop = `
type: Dataplane
mesh: shop
name: cart-1
networking:
  address: 127.0.2.20
  inbound: [{port: 8080, tags: {kuma.io/service: cart, kuma.io/protocol: http}}]
  outbound:
    - port: 9080
      tags: {kuma.io/service: payments-gateway, kuma.io/mesh: payments}
---
type: Dataplane
mesh: shop
name: checkout-1
networking:
  address: 127.0.2.10
  inbound: [{port: 8080, tags: {kuma.io/service: checkout, kuma.io/protocol: http}}]
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
`

const (
	crossMeshCluster = "payments-gateway{port=8080}_payments"
	gatewaySPIFFEID  = "spiffe://payments/payments-gateway"
)

// verifyAgainst checks chain against the PEM bundle of mesh and returns the SPIFFE IDs.
func verifyAgainst(t *testing.T, chain []*x509.Certificate, mesh, bundlePEM string) ([]spiffeid.ID, error) {
	t.Helper()
	bundle, err := x509bundle.Parse(spiffeid.RequireTrustDomainFromString(mesh), []byte(bundlePEM))
	require.NoError(t, err, "bundle of mesh %s", mesh)
	return certs.VerifySVID(chain, bundle, time.Time{})
}

// outboundCluster is the one cluster an outbound listener's only filter chain sends to.
func outboundCluster(t *testing.T, l *listenerv3.Listener) string {
	t.Helper()
	require.Len(t, l.GetFilterChains(), 1, l.GetName())
	if p := tcpProxyOf(t, l.GetFilterChains()[0]); p != nil {
		return p.GetCluster()
	}
	return ""
}

// resolveVIP asks the embedded DNS server for name's VIP.
func resolveVIP(t *testing.T, cp *runningCP, name string) string {
	t.Helper()
	var vip string
	require.Eventually(t, func() bool {
		resp, err := queryA(t, cp.addrs.DNS, name)
		if err != nil || resp.Rcode != mdns.RcodeSuccess || len(resp.Answer) == 0 {
			return false
		}
		vip = aRecord(t, resp)
		return true
	}, wait, 20*time.Millisecond, "%s does not resolve", name)
	return vip
}

// TestCrossMeshConsumerOverADS: dataplanes of mesh shop, one with an explicit outbound and one
// with transparent proxying, receive over real ADS streams everything they need to call mesh
// payments' cross-mesh gateway over mTLS: the outbound listener, a cluster presenting shop's
// identity and checking the gateway's SPIFFE ID against payments' CA, the gateway's endpoint,
// and both secrets, which really interoperate with the gateway's own. Moving the gateway pushes
// the consumers new endpoints and nothing else.
func TestCrossMeshConsumerOverADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	all := crossMeshMeshes + "\n---\n" + fmt.Sprintf(paymentsGatewayDP, "127.0.1.10") + "\n---\n" + crossMeshPayments + "\n---\n" + crossMeshShop
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(all))
	require.Equal(t, http.StatusOK, code, string(body))

	conn := dialADS(t, cp.addrs.XDS)
	gw := newMiniEnvoy(t, newSotW(t, conn, "payments.payments-gateway-1", tokenFor(t, cp, "payments", "payments-gateway-1")))
	cart := newMiniEnvoy(t, newSotW(t, conn, "shop.cart-1", tokenFor(t, cp, "shop", "cart-1")))
	checkout := newMiniEnvoy(t, newSotW(t, conn, "shop.checkout-1", tokenFor(t, cp, "shop", "checkout-1")))
	gw.start()
	cart.start()
	checkout.start()

	// The gateway: its cross-mesh listener trusts shop's CA, and it holds its own SVID.
	require.Contains(t, gw.listeners, "payments-gateway:HTTP:8080")
	gwChain := svidChain(t, gw.secrets["identity_cert:secret:payments"])
	ids, err := verifyAgainst(t, gwChain, "payments", gw.secrets["mesh_ca:secret:payments"].GetValidationContext().GetTrustedCa().GetInlineString())
	require.NoError(t, err)
	require.Equal(t, gatewaySPIFFEID, ids[0].String())
	shopTrustedByGateway := spiffeTrustBundle(t, gw, "payments-gateway:HTTP:8080", "shop")
	require.NotEmpty(t, shopTrustedByGateway, "the cross-mesh listener must trust mesh shop's CA")

	// cart: the explicit outbound on 127.0.0.1:9080, to the cross-mesh cluster.
	l := cart.listeners["outbound:127.0.0.1:9080"]
	require.NotNil(t, l, "cart listeners: %v", sortedKeys(cart.listeners))
	assert.Equal(t, "127.0.0.1:9080", joinHostPort(l.GetAddress().GetSocketAddress()))
	assert.Equal(t, crossMeshCluster, outboundCluster(t, l))

	c := cart.clusters[crossMeshCluster]
	require.NotNil(t, c, "cart clusters: %v", sortedKeys(cart.clusters))
	up := upstreamTLS(t, c)
	require.NotNil(t, up, "the cross-mesh cluster must originate mTLS")
	ctx := up.GetCommonTlsContext()
	require.Len(t, ctx.GetTlsCertificateSdsSecretConfigs(), 1)
	assert.Equal(t, "identity_cert:secret:shop", ctx.GetTlsCertificateSdsSecretConfigs()[0].GetName(), "the consumer presents its own mesh's identity")
	assert.Equal(t, "mesh_ca:secret:payments", ctx.GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName(), "the gateway is checked against its own mesh's CA")
	assert.Equal(t, []string{gatewaySPIFFEID}, sanExact(up))
	assert.Equal(t, []string{"kuma"}, ctx.GetAlpnProtocols())
	assert.Equal(t, "payments-gateway{mesh=payments,port=8080}", up.GetSni())

	require.Contains(t, cart.endpoints, crossMeshCluster)
	assert.Equal(t, []string{"127.0.1.10:8080"}, endpointAddrs(cart.endpoints[crossMeshCluster]))

	// cart's secrets: its shop SVID (verified against shop's CA) and payments' CA, which
	// verifies the SVID the gateway presents, and does not verify shop's.
	require.Contains(t, cart.secrets, "identity_cert:secret:shop", "cart secrets: %v", sortedKeys(cart.secrets))
	require.Contains(t, cart.secrets, "mesh_ca:secret:payments", "cart secrets: %v", sortedKeys(cart.secrets))
	require.Contains(t, cart.secrets, "mesh_ca:secret:shop", "cart secrets: %v", sortedKeys(cart.secrets))
	cartChain := svidChain(t, cart.secrets["identity_cert:secret:shop"])
	assert.Contains(t, uriStrings(cartChain[0]), "spiffe://shop/cart")
	ids, err = verifyAgainst(t, cartChain, "shop", cart.secrets["mesh_ca:secret:shop"].GetValidationContext().GetTrustedCa().GetInlineString())
	require.NoError(t, err)
	assert.Equal(t, "spiffe://shop/cart", ids[0].String())
	paymentsCA := cart.secrets["mesh_ca:secret:payments"].GetValidationContext().GetTrustedCa().GetInlineString()
	ids, err = verifyAgainst(t, gwChain, "payments", paymentsCA)
	require.NoError(t, err, "payments' CA sent to the consumer must verify the gateway's SVID")
	assert.Equal(t, gatewaySPIFFEID, ids[0].String())
	_, err = verifyAgainst(t, cartChain, "payments", paymentsCA)
	assert.Error(t, err, "payments' CA must not verify a shop SVID")
	_, err = verifyAgainst(t, cartChain, "shop", shopTrustedByGateway)
	require.NoError(t, err, "the gateway's trust bundle for shop must verify the consumer's SVID")

	// The secrets really interoperate: an mTLS handshake on loopback between cart's identity
	// (client) and the gateway's (server), each side validating as its Envoy is told to.
	mtlsHandshake(t, cart.secrets["identity_cert:secret:shop"], paymentsCA, up.GetSni(), gatewaySPIFFEID,
		gw.secrets["identity_cert:secret:payments"], shopTrustedByGateway, "spiffe://shop/cart")

	// checkout: a virtual listener on payments.mesh's VIP, port 8080, to the same cluster.
	vip := resolveVIP(t, cp, "payments.mesh")
	require.True(t, strings.HasPrefix(vip, "24"), "payments.mesh VIP %s not from 240.0.0.0/4", vip)
	name := "outbound:" + vip + ":8080"
	vl := checkout.listeners[name]
	require.NotNil(t, vl, "checkout listeners: %v", sortedKeys(checkout.listeners))
	require.NotNil(t, vl.GetBindToPort(), "a VIP listener must set bind_to_port")
	assert.False(t, vl.GetBindToPort().GetValue(), "a VIP listener must not bind")
	assert.Equal(t, vip+":8080", joinHostPort(vl.GetAddress().GetSocketAddress()))
	assert.Equal(t, crossMeshCluster, outboundCluster(t, vl))
	assert.Contains(t, checkout.listeners, "outbound:passthrough:ipv4")
	assert.Equal(t, uint32(15001), checkout.listeners["outbound:passthrough:ipv4"].GetAddress().GetSocketAddress().GetPortValue())
	require.Contains(t, checkout.clusters, crossMeshCluster)
	assert.Equal(t, []string{"127.0.1.10:8080"}, endpointAddrs(checkout.endpoints[crossMeshCluster]))
	assert.Contains(t, checkout.secrets, "mesh_ca:secret:payments")

	for _, e := range []*miniEnvoy{gw, cart, checkout} {
		assert.Empty(t, e.drain(quietWindow), "%s: pushes while nothing changed", e.c.node.Id)
	}

	// Move the gateway: the consumers get the new endpoint and nothing else.
	code, body = cp.call(t, http.MethodPut, "/meshes/payments/dataplanes/payments-gateway-1", "application/yaml",
		[]byte(fmt.Sprintf(paymentsGatewayDP, "127.0.1.11")))
	require.Equal(t, http.StatusOK, code, string(body))
	for _, e := range []*miniEnvoy{cart, checkout} {
		lds, cds, sds := e.versions[resourcev3.ListenerType], e.versions[resourcev3.ClusterType], e.versions[resourcev3.SecretType]
		e.await(resourcev3.EndpointType, wait)
		assert.Equal(t, []string{"127.0.1.11:8080"}, endpointAddrs(e.endpoints[crossMeshCluster]), e.c.node.Id)
		got := e.drain(quietWindow)
		assert.Zero(t, got[resourcev3.ListenerType], "%s: listeners re-sent when only the gateway's address changed", e.c.node.Id)
		assert.Zero(t, got[resourcev3.ClusterType], "%s: clusters re-sent when only the gateway's address changed", e.c.node.Id)
		assert.Zero(t, got[resourcev3.SecretType], "%s: secrets re-sent when only the gateway's address changed", e.c.node.Id)
		assert.Equal(t, lds, e.versions[resourcev3.ListenerType])
		assert.Equal(t, cds, e.versions[resourcev3.ClusterType])
		assert.Equal(t, sds, e.versions[resourcev3.SecretType])
	}
	// The gateway itself now listens on its new address.
	gw.await(resourcev3.ListenerType, wait)
	assert.Equal(t, "127.0.1.11:8080", joinHostPort(gw.listeners["payments-gateway:HTTP:8080"].GetAddress().GetSocketAddress()))
}

func uriStrings(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

// spiffeTrustBundle is the trust bundle a listener's SPIFFE certificate validator holds for a
// trust domain, inline or in the validation secret it names, or "".
func spiffeTrustBundle(t *testing.T, e *miniEnvoy, listener, domain string) string {
	t.Helper()
	l := e.listeners[listener]
	require.NotNil(t, l, "listener %s", listener)
	for _, fc := range chainsOf(l) {
		ctx := downstreamTLS(t, fc).GetCommonTlsContext()
		vc := ctx.GetValidationContext()
		if name := ctx.GetValidationContextSdsSecretConfig().GetName(); name != "" {
			require.Contains(t, e.secrets, name, "the validation secret of %s", listener)
			vc = e.secrets[name].GetValidationContext()
		}
		cv := vc.GetCustomValidatorConfig()
		if cv == nil {
			continue
		}
		var sv tlsv3.SPIFFECertValidatorConfig
		require.NoError(t, cv.GetTypedConfig().UnmarshalTo(&sv))
		for _, td := range sv.GetTrustDomains() {
			if td.GetName() == domain {
				return td.GetTrustBundle().GetInlineString()
			}
		}
	}
	return ""
}

func keyPair(t *testing.T, s *tlsv3.Secret) tls.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair([]byte(s.GetTlsCertificate().GetCertificateChain().GetInlineString()),
		[]byte(s.GetTlsCertificate().GetPrivateKey().GetInlineString()))
	require.NoError(t, err, "%s: certificate and key", s.GetName())
	return pair
}

// peerVerifier checks a peer's chain against a mesh bundle and its SPIFFE ID, as Envoy's
// validation context does.
func peerVerifier(t *testing.T, mesh, bundlePEM, wantID string) func([][]byte, [][]*x509.Certificate) error {
	bundle, err := x509bundle.Parse(spiffeid.RequireTrustDomainFromString(mesh), []byte(bundlePEM))
	require.NoError(t, err)
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		var chain []*x509.Certificate
		for _, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return err
			}
			chain = append(chain, c)
		}
		ids, err := certs.VerifySVID(chain, bundle, time.Time{})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id.String() == wantID {
				return nil
			}
		}
		return errors.New("peer is not " + wantID)
	}
}

// mtlsHandshake runs one TLS 1.3 handshake on 127.0.0.1 between a client and a server holding
// the given identity secrets, each verifying the other against the given bundle and ID.
func mtlsHandshake(t *testing.T, clientID *tlsv3.Secret, clientTrust, sni, serverWant string,
	serverID *tlsv3.Secret, serverTrust, clientWant string) {
	t.Helper()
	clientMesh, _, _ := strings.Cut(strings.TrimPrefix(clientWant, "spiffe://"), "/")
	serverMesh, _, _ := strings.Cut(strings.TrimPrefix(serverWant, "spiffe://"), "/")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = lis.Close() })
	srvCfg := &tls.Config{
		Certificates: []tls.Certificate{keyPair(t, serverID)}, ClientAuth: tls.RequireAnyClientCert,
		NextProtos: []string{"kuma"}, VerifyPeerCertificate: peerVerifier(t, clientMesh, serverTrust, clientWant),
	}
	done := make(chan error, 1)
	go func() {
		conn, err := lis.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(wait))
		done <- tls.Server(conn, srvCfg).Handshake()
	}()
	cliCfg := &tls.Config{
		Certificates: []tls.Certificate{keyPair(t, clientID)}, ServerName: sni, NextProtos: []string{"kuma"},
		// Envoy checks the SAN, not the host name, against the mesh CA: so does this.
		InsecureSkipVerify: true, VerifyPeerCertificate: peerVerifier(t, serverMesh, clientTrust, serverWant),
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: wait}, "tcp", lis.Addr().String(), cliCfg)
	require.NoError(t, err, "client side of the cross-mesh mTLS handshake")
	assert.Equal(t, "kuma", conn.ConnectionState().NegotiatedProtocol)
	_ = conn.Close()
	require.NoError(t, <-done, "server side of the cross-mesh mTLS handshake")
}
