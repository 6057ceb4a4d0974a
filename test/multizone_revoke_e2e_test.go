package test

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
)

// TestMultiZoneRevoke: `meshgate zone revoke zone-1` on global cuts zone 1 off — its sync ends
// and its token no longer opens one, its intermediate of mesh shop is in the mesh's CRL signed
// by the root — while zone 2 keeps receiving changes and zone 1 keeps what it had.
func TestMultiZoneRevoke(t *testing.T) {
	w := startMultiZone(t, "zone-1", "zone-2")
	mesh := `type: Mesh
name: shop
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
---
`
	out, err := w.apply(w.global, mesh+strings.ReplaceAll(mzGatewayResources, "mesh: default", "mesh: shop"))
	require.NoError(t, err, out)
	z1, z2 := w.zones["zone-1"], w.zones["zone-2"]
	eventuallyGet(t, z1, "/meshes/shop/meshgateways/edge-gateway", func(code int, _ string) bool { return code == 200 })
	out, err = w.apply(z1, strings.ReplaceAll(mzGatewayDataplane, "mesh: default", "mesh: shop"))
	require.NoError(t, err, out)
	gw := w.envoy(z1, "shop", "gateway-1")
	chain, err := certs.ParseCertificates([]byte(gw.secrets["identity_cert:secret:shop"].GetTlsCertificate().GetCertificateChain().GetInlineString()))
	require.NoError(t, err)
	require.Len(t, chain, 2, "leaf and zone 1's intermediate")
	intermediate := chain[1]

	revoked := w.global.cli(t, "zone", "revoke", "zone-1")
	require.Contains(t, revoked, "revoked zone zone-1")
	require.Contains(t, revoked, "shop/ca-1")

	eventuallyGet(t, w.global, "/zones", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"zone":"zone-1","connected":false`) && strings.Contains(body, `"zone":"zone-2","connected":true`)
	})

	// The CRL names zone 1's intermediate and is signed by the mesh's root.
	resp, err := http.Get("http://" + w.global.api + "/meshes/shop/crl")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	block, _ := pem.Decode(raw)
	require.NotNil(t, block, "CRL is PEM: %s", raw)
	crl, err := x509.ParseRevocationList(block.Bytes)
	require.NoError(t, err)
	var root *x509.Certificate
	for _, c := range chain {
		if c.IsCA && c.CheckSignatureFrom(c) == nil {
			root = c
		}
	}
	if root == nil { // the chain stops below the root: take it from the mesh bundle
		bundle := gw.secrets["mesh_ca:secret:shop"].GetValidationContext().GetTrustedCa().GetInlineString()
		roots, err := certs.ParseCertificates([]byte(bundle))
		require.NoError(t, err)
		root = roots[0]
	}
	require.NoError(t, crl.CheckSignatureFrom(root), "the CRL is signed by mesh shop's root")
	var serials []string
	for _, e := range crl.RevokedCertificateEntries {
		serials = append(serials, e.SerialNumber.String())
	}
	require.Contains(t, serials, intermediate.SerialNumber.String(), "zone 1's intermediate is revoked")

	// A change made on global now reaches zone 2 only; zone 1 keeps serving what it had.
	route := strings.ReplaceAll(strings.Replace(mzGatewayResources[strings.Index(mzGatewayResources, "type: MeshGatewayRoute"):], "api-route", "later-route", 1), "mesh: default", "mesh: shop")
	out, err = w.apply(w.global, route)
	require.NoError(t, err, out)
	eventuallyGet(t, z2, "/meshes/shop/meshgatewayroutes/later-route", func(code int, _ string) bool { return code == 200 })
	time.Sleep(time.Second)
	eventuallyGet(t, z1, "/meshes/shop/meshgatewayroutes/later-route", func(code int, _ string) bool { return code == 404 })
	eventuallyGet(t, z1, "/meshes/shop/meshgatewayroutes/api-route", func(code int, _ string) bool { return code == 200 })
}
