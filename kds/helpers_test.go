package kds

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/zonetokens"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// testCA is a CA made for one test; it signs the KDS serving certificate (and, in the
// SignIntermediate test, plays global's mesh CA).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kds test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "global"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func (ca *testCA) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
}

func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// put writes universal-form YAML resources with an origin.
func put(t *testing.T, st store.Store, origin, yaml string) {
	t.Helper()
	objs, errs := api.Decode("test.yaml", []byte(yaml))
	require.Empty(t, errs)
	var req store.ApplyRequest
	for _, o := range objs {
		spec, err := api.Encode(o)
		require.NoError(t, err)
		m := o.GetMeta()
		mesh := m.Mesh
		if m.Kind == api.KindMesh {
			mesh = ""
		}
		req.Puts = append(req.Puts, store.Put{Key: store.Key{Kind: string(m.Kind), Mesh: mesh, Name: m.Name}, Spec: spec, Origin: origin})
	}
	_, err := st.Apply(context.Background(), req)
	require.NoError(t, err)
}

func del(t *testing.T, st store.Store, key store.Key) {
	t.Helper()
	_, err := st.Apply(context.Background(), store.ApplyRequest{Deletes: []store.Delete{{Key: key}}})
	require.NoError(t, err)
}

// global is a global control plane's KDS server over TLS on loopback.
type global struct {
	st     store.Store
	tokens *zonetokens.Issuer
	srv    *Server
	addr   string
	grpc   *grpc.Server
}

func startGlobal(t *testing.T, ca *testCA, st store.Store, addr string, opts ServerOptions) *global {
	t.Helper()
	g := &global{st: st, tokens: zonetokens.New(st, zonetokens.Options{})}
	opts.Store, opts.Verify = st, g.tokens.Verify
	srv, err := NewServer(opts)
	require.NoError(t, err)
	g.srv = srv
	var lis net.Listener
	deadline := time.Now().Add(10 * time.Second)
	for {
		lis, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the previous server's port may still be closing
	}
	require.NoError(t, err, "listening on %s", addr)
	g.addr = lis.Addr().String()
	g.grpc = grpc.NewServer(append(GRPCServerOptions(), grpc.Creds(credentials.NewTLS(ca.serverTLS(t))))...)
	srv.Register(g.grpc)
	go func() { _ = g.grpc.Serve(lis) }()
	t.Cleanup(g.grpc.Stop)
	return g
}

func (g *global) token(t *testing.T, zone string) string {
	t.Helper()
	tok, err := g.tokens.Issue(context.Background(), zonetokens.IssueRequest{Zone: zone})
	require.NoError(t, err)
	return tok
}

// startZone runs a zone's client until the test ends.
func startZone(t *testing.T, ca *testCA, g *global, zone, token string, st store.Store, seen func(*discovery.DeltaDiscoveryResponse)) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{Zone: zone, Address: g.addr, TLS: ca.clientTLS(), Store: st,
		Token: func() (string, error) { return token, nil }})
	require.NoError(t, err)
	c.onGlobalResponse = seen
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("the KDS client did not stop within 10s")
		}
	})
	return c
}

func waitSynced(t *testing.T, c *Client) {
	t.Helper()
	select {
	case <-c.Synced():
	case <-time.After(10 * time.Second):
		t.Fatalf("the zone did not finish its first sync within 10s; status %+v", c.Status())
	}
}

// eventually polls cond for up to 10s.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within 10s: %v", what, err)
}

func get(st store.Store, key store.Key) (store.Record, error) {
	return st.Get(context.Background(), key)
}

func absent(st store.Store, key store.Key) error {
	_, err := get(st, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil {
		return errors.New("still present")
	}
	return err
}
