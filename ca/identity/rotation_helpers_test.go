package identity

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeClock is the one clock of a test's identities, CA and rate limiter.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func openTestStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newTestIdentities(t testing.TB, st store.Store, opts RotationOptions, clk *fakeClock) *Service {
	t.Helper()
	ids, err := New(Config{Store: st, Rotation: opts, Log: quietLogger(), Now: clk.Now})
	require.NoError(t, err)
	return ids
}

// rotMesh is mesh "default" with builtin backends of the given names, enabled first, and n
// gateway dataplanes.
func rotMesh(n int, enabled string, backends ...string) *model.Mesh {
	mtls := &api.MTLS{EnabledBackend: enabled}
	for _, b := range backends {
		mtls.Backends = append(mtls.Backends, api.CABackend{Name: b, Type: api.CABackendBuiltin})
	}
	m := &model.Mesh{Name: "default", Resource: &api.Mesh{Meta: api.Meta{Kind: api.KindMesh, Name: "default"}, Spec: api.MeshSpec{MTLS: mtls}}}
	for i := range n {
		m.Dataplanes = append(m.Dataplanes, &api.Dataplane{
			Meta: api.Meta{Kind: api.KindDataplane, Mesh: "default", Name: fmt.Sprintf("dp-%d", i)},
			Spec: api.DataplaneSpec{Networking: api.Networking{Address: "127.0.0.1", Gateway: &api.DataplaneGateway{
				Type: api.GatewayBuiltin, Tags: map[string]string{api.ServiceTag: fmt.Sprintf("svc-%d", i)},
			}}},
		})
	}
	return m
}

// rebuilt is what one rebuild handed out.
type rebuilt struct {
	ids  map[string]*Identity
	wake time.Time
}

// rebuild runs what the reconciler runs for identities over one mesh.
func rebuild(t testing.TB, ids *Service, mesh *model.Mesh) rebuilt {
	t.Helper()
	ids.SetModel(&model.Model{})
	out := rebuilt{ids: map[string]*Identity{}}
	keep := map[Dataplane]bool{}
	for _, dp := range mesh.Dataplanes {
		id, wake, err := ids.For(context.Background(), Request{Mesh: mesh, Dataplane: dp})
		require.NoError(t, err)
		out.ids[dp.Name] = id
		out.wake = earliest(out.wake, wake)
		keep[Dataplane{mesh.Name, dp.Name}] = true
	}
	ids.Forget(keep)
	return out
}

func chainOf(t testing.TB, id *Identity) []*x509.Certificate {
	t.Helper()
	chain, err := certs.ParseCertificates([]byte(id.CertificateChain))
	require.NoError(t, err)
	return chain
}

// rootsOf returns the fingerprints of the roots in a dataplane's trust bundle.
func rootsOf(t testing.TB, id *Identity) map[string]bool {
	t.Helper()
	cs, err := certs.ParseCertificates([]byte(id.TrustBundle))
	require.NoError(t, err)
	out := map[string]bool{}
	for _, c := range cs {
		out[ca.Fingerprint(c)] = true
	}
	return out
}

// issuerRoot is the fingerprint of the root in bundle that signed the leaf's chain.
func issuerRoot(t testing.TB, id *Identity) string {
	t.Helper()
	chain := chainOf(t, id)
	roots, err := certs.ParseCertificates([]byte(id.TrustBundle))
	require.NoError(t, err)
	top := chain[len(chain)-1]
	for _, r := range roots {
		if top.CheckSignatureFrom(r) == nil {
			return ca.Fingerprint(r)
		}
	}
	t.Fatalf("leaf %s chains to no root of its bundle", chain[0].URIs)
	return ""
}

// verifyWith checks a leaf against a bundle with go-spiffe (certs.VerifySVID) and openssl.
func verifyWith(t testing.TB, leaf *Identity, bundlePEM string, at time.Time) {
	t.Helper()
	chain := chainOf(t, leaf)
	bundle, err := certs.ParseBundle("default", []byte(bundlePEM))
	require.NoError(t, err)
	_, err = certs.VerifySVID(chain, bundle, at)
	require.NoError(t, err)
	certstest.RequireOpenSSLVerify(t, bundle.X509Authorities(), chain[1:], chain[0])
}

// backendRootFP is the fingerprint of a backend's root.
func backendRootFP(t testing.TB, ids *Service, mesh *model.Mesh, backend string) string {
	t.Helper()
	roots, err := ids.ca.BackendRoots(context.Background(), mesh.Resource)
	require.NoError(t, err)
	for _, r := range roots {
		if r.Backend == backend {
			return ca.Fingerprint(r.Cert)
		}
	}
	t.Fatalf("no backend %q", backend)
	return ""
}
