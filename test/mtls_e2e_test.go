package test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/certs"
)

// mtlsMesh enables the builtin CA with a short leaf lifetime, so the test sees a renewal.
const mtlsMesh = `
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      dpCert: {rotation: {expiration: 3s}}
`

func secretsOf(t *testing.T, resp *discoveryv3.DiscoveryResponse) map[string]*tlsv3.Secret {
	t.Helper()
	out := map[string]*tlsv3.Secret{}
	for _, a := range resp.Resources {
		var s tlsv3.Secret
		require.NoError(t, a.UnmarshalTo(&s))
		out[s.Name] = &s
	}
	return out
}

// verifySVID checks the identity secret against the bundle secret with go-spiffe and openssl.
func verifySVID(t *testing.T, secrets map[string]*tlsv3.Secret, wantID string) *x509.Certificate {
	t.Helper()
	id := secrets["identity_cert:secret:default"]
	ca := secrets["mesh_ca:secret:default"]
	require.NotNil(t, id, "identity secret")
	require.NotNil(t, ca, "mesh CA secret")
	chainPEM := id.GetTlsCertificate().GetCertificateChain().GetInlineString()
	bundlePEM := ca.GetValidationContext().GetTrustedCa().GetInlineString()
	var chain []*x509.Certificate
	for rest := []byte(chainPEM); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		require.NoError(t, err)
		chain = append(chain, c)
	}
	require.NotEmpty(t, chain)
	bundle, err := x509bundle.Parse(spiffeid.RequireTrustDomainFromString("default"), []byte(bundlePEM))
	require.NoError(t, err)
	// certs.VerifySVID runs go-spiffe's x509svid.Verify (see there why through a one-URI view).
	ids, err := certs.VerifySVID(chain, bundle, time.Time{})
	require.NoError(t, err)
	require.NotEmpty(t, ids)
	assert.Equal(t, wantID, ids[0].String())

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "leaf.pem"), []byte(chainPEM), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bundle.pem"), []byte(bundlePEM), 0o600))
	out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(dir, "bundle.pem"), filepath.Join(dir, "leaf.pem")).CombinedOutput()
	require.NoError(t, err, string(out))
	return chain[0]
}

// TestMTLSMeshOverADS: a gateway in an mTLS mesh receives its SVID and the mesh bundle over SDS
// on its ADS stream, its clusters use them, and a renewal re-pushes only the secrets.
func TestMTLSMeshOverADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append([]byte(mtlsMesh+"\n---\n"), exampleYAML(t)...))
	require.Equal(t, http.StatusOK, code, string(body))

	gw := newSotW(t, dialADS(t, cp.addrs.XDS), gatewayNode, tokenFor(t, cp, "default", "gateway-instance-1"))
	fetchAll(t, gw)
	names := []string{"identity_cert:secret:default", "mesh_ca:secret:default"}
	gw.subscribe(resourcev3.SecretType, names...)
	sds := gw.next(resourcev3.SecretType, wait)
	gw.ack(sds, names...)
	first := verifySVID(t, secretsOf(t, sds), "spiffe://default/edge-gateway")
	assert.WithinDuration(t, time.Now().Add(3*time.Second), first.NotAfter, 2*time.Second)

	// The 3 s certificate is renewed at 80 % of its life: only the secrets are pushed again.
	renewed := gw.next(resourcev3.SecretType, 10*time.Second)
	gw.ack(renewed, names...)
	second := verifySVID(t, secretsOf(t, renewed), "spiffe://default/edge-gateway")
	assert.NotEqual(t, first.SerialNumber, second.SerialNumber)
	assert.Empty(t, gw.held, "a renewal must not re-push listeners, routes or clusters")
	gw.quiet(quietWindow)

	// The bundle endpoint serves the same roots the dataplane validates with, in the SPIFFE
	// federation format, through the client and CLI alike.
	c, err := client.New("http://"+cp.addrs.API, "")
	require.NoError(t, err)
	fed, err := c.MeshBundle(context.Background(), "default")
	require.NoError(t, err)
	sdsBundle, err := x509bundle.Parse(spiffeid.RequireTrustDomainFromString("default"),
		[]byte(secretsOf(t, renewed)["mesh_ca:secret:default"].GetValidationContext().GetTrustedCa().GetInlineString()))
	require.NoError(t, err)
	assert.True(t, x509bundle.FromX509Authorities(fed.TrustDomain(), fed.X509Authorities()).Equal(sdsBundle))
	code, body = cp.call(t, http.MethodGet, "/meshes/nowhere/bundle", "", nil)
	assert.Equal(t, http.StatusNotFound, code, string(body))
}

// brokenCAMesh names a provided CA whose Secret does not exist: no identity can be issued.
const brokenCAMesh = `
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: provided
      conf:
        cert: {secret: missing-cert}
        key: {secret: missing-key}
`

// TestNoSnapshotWithoutIdentity: while a dataplane's identity cannot be issued, it is served
// nothing (rather than clusters whose secrets never come), and inspect says why.
func TestNoSnapshotWithoutIdentity(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append([]byte(brokenCAMesh+"\n---\n"), exampleYAML(t)...))
	require.Equal(t, http.StatusOK, code, string(body))
	gw := newSotW(t, dialADS(t, cp.addrs.XDS), gatewayNode, tokenFor(t, cp, "default", "gateway-instance-1"))
	gw.subscribe(resourcev3.ListenerType)
	gw.quiet(time.Second)
	code, body = cp.call(t, http.MethodGet, "/meshes/default/dataplanes/gateway-instance-1/inspect", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Contains(t, string(body), "missing-cert")
}
