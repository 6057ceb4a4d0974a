package render_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

const svidInput = `
type: Mesh
name: default
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: shop
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Dataplane
mesh: default
name: backend-1
networking:
  address: 10.0.0.2
  inbound:
  - {port: 8080, tags: {kuma.io/service: backend, kuma.io/protocol: http}}
  - {port: 9090, tags: {kuma.io/service: reports, kuma.io/protocol: tcp}}
---
type: Dataplane
mesh: default
name: web-1
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http, version: v1}}]
---
type: Dataplane
mesh: default
name: web-2
networking:
  address: 10.0.0.3
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http, version: v2}}]
---
type: Dataplane
mesh: default
name: other-1
networking:
  address: 10.0.0.9
  inbound: [{port: 8080, tags: {kuma.io/service: other, kuma.io/protocol: http}}]
---
type: Dataplane
mesh: shop
name: web-1
networking:
  address: 10.0.5.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]
---
type: TrafficPermission
mesh: default
name: web-to-backend
sources: [{match: {kuma.io/service: web}}]
destinations: [{match: {kuma.io/service: backend}}]
---
type: TrafficPermission
mesh: default
name: web-v1-to-reports
sources: [{match: {kuma.io/service: web, version: v1}}]
destinations: [{match: {kuma.io/service: reports}}]
`

// meshCAs are the real CAs of a model's mTLS meshes, as the control plane runs them.
type meshCAs struct {
	model   *model.Model
	cas     map[string]ca.Authority
	bundles map[string]*x509bundle.Bundle
	pems    map[string]string
}

func newMeshCAs(t *testing.T, m *model.Model) *meshCAs {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	mgr, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	w := &meshCAs{model: m, cas: map[string]ca.Authority{}, bundles: map[string]*x509bundle.Bundle{}, pems: map[string]string{}}
	for _, ms := range m.Meshes() {
		if !ms.MTLSEnabled() {
			continue
		}
		a, err := mgr.For(ctx, ms.Resource)
		require.NoError(t, err)
		b, err := a.Bundle(ctx)
		require.NoError(t, err)
		p, err := certs.BundlePEM(b)
		require.NoError(t, err)
		w.cas[ms.Name], w.bundles[ms.Name], w.pems[ms.Name] = a, b, string(p)
	}
	return w
}

// svid issues dataplane mesh/name its certificate, exactly as the control plane does.
func (w *meshCAs) svid(t *testing.T, mesh, name string) (ca.Issued, []*x509.Certificate) {
	t.Helper()
	dp := w.model.Mesh(mesh).Dataplane(name)
	require.NotNil(t, dp, "%s/%s", mesh, name)
	id := ca.DataplaneSubject(mesh, dp)
	out, err := w.cas[mesh].Issue(context.Background(), ca.IssueRequest{Mesh: mesh, Services: id.Services, Tags: id.Tags})
	require.NoError(t, err)
	chain, err := certs.ParseCertificates(out.CertPEM)
	require.NoError(t, err)
	return out, chain
}

// served renders a dataplane with its real identity and every mesh's real bundle.
func (w *meshCAs) served(t *testing.T, mesh, name string) *render.Output {
	t.Helper()
	issued, _ := w.svid(t, mesh, name)
	out, err := render.Render(build.Request{
		Model: w.model, Mesh: mesh, Name: name, Options: build.DefaultOptions(), MeshBundles: w.pems,
		Identity: &build.Identity{CertificateChain: string(issued.CertPEM), PrivateKey: string(issued.KeyPEM), TrustBundle: w.pems[mesh]},
	})
	require.NoError(t, err)
	return out
}

// peerOf reads the client certificate as Envoy does: its URI SANs, in order.
func peerOf(leaf *x509.Certificate) *explain.Peer {
	p := &explain.Peer{}
	for _, u := range leaf.URIs {
		p.URIs = append(p.URIs, u.String())
	}
	return p
}

func loadYAML(t *testing.T, input string) *model.Model {
	t.Helper()
	objs, errs := api.Decode("input.yaml", []byte(input))
	require.Empty(t, errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs)
	return m
}

// Real SVIDs from the project's CA, read back from the X.509 certificates, against the RBAC
// the TrafficPermissions generated: the URIs the CA writes are the ones the policy matches.
func TestCAIssuedSVIDsAgainstGeneratedRBAC(t *testing.T) {
	m := loadYAML(t, svidInput)
	w := newMeshCAs(t, m)
	backend := w.served(t, "default", "backend-1")

	type call struct {
		mesh, dataplane string
		port            uint32
		tlsOK           bool
		allowedBy       string // empty: denied
	}
	for _, c := range []call{
		{"default", "web-1", 8080, true, "web-to-backend"},
		{"default", "web-2", 8080, true, "web-to-backend"},
		{"default", "other-1", 8080, true, ""},
		{"default", "web-1", 9090, true, "web-v1-to-reports"},
		{"default", "web-2", 9090, true, ""},
		{"default", "other-1", 9090, true, ""},
		// Another mesh's CA: refused at the handshake, before RBAC.
		{"shop", "web-1", 8080, false, ""},
	} {
		t.Run(c.mesh+"/"+c.dataplane+"->"+map[uint32]string{8080: "backend", 9090: "reports"}[c.port], func(t *testing.T) {
			_, chain := w.svid(t, c.mesh, c.dataplane)
			leaf := chain[0]
			peer := peerOf(leaf)
			require.NotEmpty(t, peer.URIs)
			assert.Equal(t, "spiffe://"+c.mesh+"/"+m.Mesh(c.mesh).Dataplane(c.dataplane).Spec.Networking.Inbound[0].Tags["kuma.io/service"], peer.URIs[0])

			// explain's handshake verdict agrees with real chain verification against the
			// inbound's trust bundle (its own mesh's).
			_, verr := certs.VerifySVID(chain, w.bundles["default"], time.Now())
			assert.Equal(t, c.tlsOK, verr == nil, "chain verification: %v", verr)

			res, err := explain.Explain(backend.Resources, explain.Request{
				Port: c.port, Address: "10.0.0.2", Host: "backend.mesh", Path: "/", TLS: true, Source: peer,
			})
			require.NoError(t, err)
			require.NotNil(t, res.TLS)
			assert.Equal(t, c.tlsOK, res.TLS.Accepted, res.TLS.Reason)
			if !c.tlsOK {
				assert.Empty(t, res.RBAC)
				assert.True(t, res.Action.Close)
				return
			}
			require.Len(t, res.RBAC, 1)
			if c.allowedBy == "" {
				assert.False(t, res.RBAC[0].Allowed, "allowed by %s", res.RBAC[0].Policy)
				assert.True(t, res.Action.Close)
				return
			}
			assert.True(t, res.RBAC[0].Allowed, "denied; considered %v", res.RBAC[0].Considered)
			assert.Equal(t, c.allowedBy, res.RBAC[0].Policy)
			require.NotEmpty(t, res.Action.Forward)
		})
	}
}

// The same across meshes: the shop CA's certificate for checkout is accepted by the payments
// gateway's SPIFFE validator (and verifies against the bundle it carries for shop) and admitted
// by the permission naming shop's checkout; cart's is trusted but not admitted.
func TestCAIssuedSVIDsAtCrossMeshGateway(t *testing.T) {
	m, err := render.Load([]string{"../../examples/crossmesh"})
	require.NoError(t, err)
	w := newMeshCAs(t, m)
	gw := w.served(t, "payments", "payments-gateway-1")

	cfg := spiffeConfig(t, gw, listenerNamed(t, gw, "payments-gateway:HTTP:8080"))
	set := x509bundle.NewSet()
	for _, td := range cfg.GetTrustDomains() {
		b, err := certs.ParseBundle(td.GetName(), []byte(td.GetTrustBundle().GetInlineString()))
		require.NoError(t, err)
		set.Add(b)
	}
	for _, c := range []struct {
		dataplane string
		allowed   bool
	}{{"checkout-1", true}, {"cart-1", false}} {
		_, chain := w.svid(t, "shop", c.dataplane)
		_, err := certs.VerifySVID(chain, set, time.Now())
		require.NoError(t, err, "the validator's bundle for shop verifies shop's certificates")
		res, err := explain.Explain(gw.Resources, explain.Request{
			Port: 8080, Address: "10.0.1.10", Host: "payments.mesh", Path: "/", TLS: true, ALPN: []string{"kuma"}, Source: peerOf(chain[0]),
		})
		require.NoError(t, err)
		require.NotNil(t, res.TLS)
		assert.True(t, res.TLS.Accepted, res.TLS.Reason)
		assert.Equal(t, "shop", res.TLS.PeerTrustDomain)
		require.Len(t, res.RBAC, 1)
		assert.Equal(t, c.allowed, res.RBAC[0].Allowed, c.dataplane)
		if c.allowed {
			assert.Equal(t, "shop-checkout-to-gateway", res.RBAC[0].Policy)
			assert.Equal(t, []string{"payments-api"}, []string{res.Action.Forward[0].Cluster})
		}
	}
}
