package render_test

import (
	"crypto/x509"
	"net/url"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

const crossMeshInput = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: other
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: plain
---
type: Dataplane
mesh: default
name: gw
networking:
  address: 192.168.1.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: cross-gw}}
---
type: Dataplane
mesh: default
name: echo
networking:
  address: 192.168.1.2
  inbound: [{port: 8000, tags: {kuma.io/service: echo, kuma.io/protocol: http}}]
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: cross-gw}}]
conf:
  listeners:
  - {port: 8080, protocol: HTTP, crossMesh: true, hostname: api.mesh}
  - {port: 9090, protocol: HTTP}
---
type: MeshGatewayRoute
mesh: default
name: echo
selectors: [{match: {kuma.io/service: cross-gw}}]
conf:
  http:
    rules:
    - matches: [{path: {match: PREFIX, value: /}}]
      backends: [{destination: {kuma.io/service: echo}}]
`

// crossMeshWorld is a model with a cross-mesh gateway in `default`, the CAs of the two mTLS
// meshes, and the gateway's identity.
type crossMeshWorld struct {
	model    *model.Model
	cas      map[string]*certstest.CA
	identity *build.Identity
	bundles  map[string]string
}

func newCrossMeshWorld(t *testing.T) crossMeshWorld {
	t.Helper()
	objs, errs := api.Decode("crossmesh.yaml", []byte(crossMeshInput))
	require.Empty(t, errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)
	w := crossMeshWorld{model: m, cas: map[string]*certstest.CA{}, bundles: map[string]string{}}
	for _, mesh := range []string{"default", "other", "plain"} {
		w.cas[mesh] = certstest.NewRoot(t, mesh+" CA")
		// "plain" has no mTLS: its bundle must be ignored even if handed in.
		w.bundles[mesh] = string(w.cas[mesh].CertPEM())
	}
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	keyPEM, err := certs.EncodePrivateKey(key)
	require.NoError(t, err)
	leaf := w.cas["default"].SignLeaf(t, certs.LeafParams{URIs: []*url.URL{spiffeURL(t, "default", "cross-gw")}, PublicKey: key.Public()})
	w.identity = &build.Identity{
		CertificateChain: string(certs.EncodeCertificates(leaf)),
		PrivateKey:       string(keyPEM),
		TrustBundle:      w.bundles["default"],
	}
	return w
}

func spiffeURL(t *testing.T, mesh, service string) *url.URL {
	t.Helper()
	id, err := certs.ServiceID(mesh, service)
	require.NoError(t, err)
	return id.URL()
}

func (w crossMeshWorld) render(t *testing.T, id *build.Identity, bundles map[string]string) *render.Output {
	t.Helper()
	out, err := render.Render(build.Request{
		Model: w.model, Mesh: "default", Name: "gw", Options: build.DefaultOptions(), Identity: id, MeshBundles: bundles,
	})
	require.NoError(t, err)
	return out
}

func listenerNamed(t *testing.T, out *render.Output, name string) *listenerv3.Listener {
	t.Helper()
	for _, l := range out.Resources.Listeners {
		if l.GetName() == name {
			return l
		}
	}
	return nil
}

// spiffeConfig reads the SPIFFE validator the cross-mesh listener uses: the listener names the
// secret over SDS, the secret holds the validator.
func spiffeConfig(t *testing.T, out *render.Output, l *listenerv3.Listener) *tlsv3.SPIFFECertValidatorConfig {
	t.Helper()
	require.Len(t, l.GetFilterChains(), 1)
	var ctx tlsv3.DownstreamTlsContext
	require.NoError(t, l.GetFilterChains()[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx))
	name := ctx.GetCommonTlsContext().GetValidationContextSdsSecretConfig().GetName()
	require.Equal(t, "mesh_ca:secret:all", name)
	var sec *tlsv3.Secret
	for _, s := range out.Resources.Secrets {
		if s.GetName() == name {
			sec = s
		}
	}
	require.NotNil(t, sec, "the validator secret is served with the listener")
	vc := sec.GetValidationContext().GetCustomValidatorConfig()
	require.Equal(t, "envoy.tls.cert_validator.spiffe", vc.GetName())
	var cfg tlsv3.SPIFFECertValidatorConfig
	require.NoError(t, vc.GetTypedConfig().UnmarshalTo(&cfg))
	return &cfg
}

func TestRenderCrossMeshListener(t *testing.T) {
	w := newCrossMeshWorld(t)
	out := w.render(t, w.identity, w.bundles)
	require.NoError(t, out.Snapshot.Consistent())
	for _, group := range [][]interface{ ValidateAll() error }{
		asValidatable(out.Resources.Listeners), asValidatable(out.Resources.Routes),
		asValidatable(out.Resources.Clusters), asValidatable(out.Resources.Secrets),
	} {
		for _, r := range group {
			require.NoError(t, r.ValidateAll())
		}
	}
	assert.Empty(t, out.Proxy.Diagnostics)

	l := listenerNamed(t, out, "edge:HTTP:8080")
	require.NotNil(t, l, "cross-mesh listener is built")
	fc := l.GetFilterChains()[0]
	assert.Equal(t, "tls", fc.GetFilterChainMatch().GetTransportProtocol())
	assert.Equal(t, []string{"kuma"}, fc.GetFilterChainMatch().GetApplicationProtocols())
	assert.Empty(t, fc.GetFilterChainMatch().GetServerNames())

	var ctx tlsv3.DownstreamTlsContext
	require.NoError(t, fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx))
	assert.True(t, ctx.GetRequireClientCertificate().GetValue())
	assert.Equal(t, []string{"kuma"}, ctx.GetCommonTlsContext().GetAlpnProtocols())
	assert.Equal(t, "identity_cert:secret:default", ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()[0].GetName())

	cfg := spiffeConfig(t, out, l)
	var domains []string
	for _, td := range cfg.GetTrustDomains() {
		domains = append(domains, td.GetName())
	}
	assert.Equal(t, []string{"default", "other"}, domains, "one trust domain per mTLS mesh; `plain` has none")

	var hcm hcmv3.HttpConnectionManager
	require.NoError(t, fc.GetFilters()[len(fc.GetFilters())-1].GetTypedConfig().UnmarshalTo(&hcm))
	assert.Equal(t, "edge:HTTP:8080:*", hcm.GetRds().GetRouteConfigName())
	assert.Equal(t, hcmv3.HttpConnectionManager_SANITIZE_SET, hcm.GetForwardClientCertDetails())
	assert.True(t, hcm.GetSetCurrentClientCertDetails().GetUri())

	for _, rc := range out.Resources.Routes {
		if rc.GetName() != "edge:HTTP:8080:*" {
			continue
		}
		require.Len(t, rc.GetVirtualHosts(), 1)
		assert.Equal(t, []string{"api.mesh"}, rc.GetVirtualHosts()[0].GetDomains())
		assert.Zero(t, rc.GetVirtualHosts()[0].GetRequireTls(), "the chain accepts only TLS already")
	}
	assert.NotNil(t, listenerNamed(t, out, "edge:HTTP:9090"), "the gateway's other listeners are unaffected")
}

func asValidatable[T interface{ ValidateAll() error }](in []T) []interface{ ValidateAll() error } {
	out := make([]interface{ ValidateAll() error }, len(in))
	for i, r := range in {
		out[i] = r
	}
	return out
}

// Offline (no CA) the listener is still shown, naming the validator secret only the running
// control plane fills; with an identity but no other mesh's bundle it trusts its own mesh.
func TestRenderCrossMeshWithoutBundles(t *testing.T) {
	w := newCrossMeshWorld(t)
	offline := w.render(t, nil, nil)
	require.NotNil(t, listenerNamed(t, offline, "edge:HTTP:8080"))
	assert.Empty(t, offline.Proxy.Diagnostics)
	assert.Empty(t, offline.Resources.Secrets, "no CA, no secrets")

	own := w.render(t, w.identity, nil)
	cfg := spiffeConfig(t, own, listenerNamed(t, own, "edge:HTTP:8080"))
	require.Len(t, cfg.GetTrustDomains(), 1)
	assert.Equal(t, "default", cfg.GetTrustDomains()[0].GetName())
}

// Rotating another mesh's CA changes the validator secret only: the listener, and so the
// LDS version every gateway would otherwise re-apply, stays the same.
func TestCrossMeshBundleChangeLeavesListener(t *testing.T) {
	w := newCrossMeshWorld(t)
	before := w.render(t, w.identity, w.bundles)
	rotated := map[string]string{}
	for k, v := range w.bundles {
		rotated[k] = v
	}
	rotated["other"] += string(certs.EncodeCertificates(certstest.NewRoot(t, "other").Cert))
	after := w.render(t, w.identity, rotated)
	assert.Equal(t, before.Snapshot.GetVersion(resourcev3.ListenerType), after.Snapshot.GetVersion(resourcev3.ListenerType))
	assert.NotEqual(t, before.Snapshot.GetVersion(resourcev3.SecretType), after.Snapshot.GetVersion(resourcev3.SecretType))
}

// The trust domains Envoy is given, read back with go-spiffe, accept a client only with a
// certificate from its own mesh's CA: a foreign CA is refused, and so is a trusted mesh's CA
// vouching for another mesh's identity (which a merged bundle would have accepted).
func TestCrossMeshValidatorTrustsEachMeshOnlyForItself(t *testing.T) {
	w := newCrossMeshWorld(t)
	out := w.render(t, w.identity, w.bundles)
	cfg := spiffeConfig(t, out, listenerNamed(t, out, "edge:HTTP:8080"))
	set := x509bundle.NewSet()
	for _, td := range cfg.GetTrustDomains() {
		b, err := certs.ParseBundle(td.GetName(), []byte(td.GetTrustBundle().GetInlineString()))
		require.NoError(t, err)
		set.Add(b)
	}

	svid := func(ca *certstest.CA, mesh, service string) []*x509.Certificate {
		return []*x509.Certificate{ca.SignLeaf(t, certs.LeafParams{URIs: []*url.URL{spiffeURL(t, mesh, service)}})}
	}
	now := time.Now()

	ids, err := certs.VerifySVID(svid(w.cas["other"], "other", "client"), set, now)
	require.NoError(t, err, "a client of an allowed mesh verifies")
	assert.Equal(t, []spiffeid.ID{spiffeid.RequireFromString("spiffe://other/client")}, ids)

	_, err = certs.VerifySVID(svid(w.cas["default"], "default", "client"), set, now)
	require.NoError(t, err, "the gateway's own mesh may call too")

	rogue := certstest.NewRoot(t, "rogue CA")
	_, err = certs.VerifySVID(svid(rogue, "rogue", "client"), set, now)
	assert.Error(t, err, "a mesh whose CA is not in the configuration is refused")
	_, err = certs.VerifySVID(svid(w.cas["plain"], "plain", "client"), set, now)
	assert.Error(t, err, "a mesh without mTLS is not trusted, even if a bundle was handed in")

	_, err = certs.VerifySVID(svid(w.cas["other"], "default", "admin"), set, now)
	assert.Error(t, err, "mesh other's CA cannot vouch for an identity in mesh default")
}
