package ca_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/store/sqlite"
)

func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newManager(t testing.TB, opts ca.Options) *ca.Manager {
	t.Helper()
	m, err := ca.New(openStore(t, t.TempDir()), opts)
	require.NoError(t, err)
	return m
}

// meshWith is a mesh whose only, enabled backend is b.
func meshWith(name string, b api.CABackend) *api.Mesh {
	return &api.Mesh{
		Meta: api.Meta{Kind: api.KindMesh, Name: name},
		Spec: api.MeshSpec{MTLS: &api.MTLS{EnabledBackend: b.Name, Backends: []api.CABackend{b}}},
	}
}

func builtin(name string, conf map[string]any) api.CABackend {
	return api.CABackend{Name: name, Type: api.CABackendBuiltin, Conf: conf}
}

func provided(name string, cert, key map[string]any) api.CABackend {
	return api.CABackend{Name: name, Type: api.CABackendProvided, Conf: map[string]any{"cert": cert, "key": key}}
}

func inlineString(b []byte) map[string]any { return map[string]any{"inlineString": string(b)} }

// issued is an Issued, parsed.
type issued struct {
	ca.Issued
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
	key           crypto.Signer
}

func parseIssued(t testing.TB, out ca.Issued) issued {
	t.Helper()
	chain, err := certs.ParseCertificates(out.CertPEM)
	require.NoError(t, err)
	key, err := certs.ParsePrivateKey(out.KeyPEM)
	require.NoError(t, err)
	require.NoError(t, certs.KeyMatches(chain[0].PublicKey, key))
	return issued{Issued: out, leaf: chain[0], intermediates: chain[1:], key: key}
}

func issue(t testing.TB, a ca.Authority, req ca.IssueRequest) issued {
	t.Helper()
	out, err := a.Issue(context.Background(), req)
	require.NoError(t, err)
	return parseIssued(t, out)
}

func bundleOf(t testing.TB, a ca.Authority) *x509bundle.Bundle {
	t.Helper()
	b, err := a.Bundle(context.Background())
	require.NoError(t, err)
	return b
}

// verifyBoth checks a certificate with the two independent verifiers: go-spiffe (through
// certs.VerifySVID, and x509svid.Verify directly when the leaf is a strict one-URI SVID) and
// `openssl verify`.
func verifyBoth(t testing.TB, bundle *x509bundle.Bundle, is issued) {
	t.Helper()
	chain := append([]*x509.Certificate{is.leaf}, is.intermediates...)
	_, err := certs.VerifySVID(chain, bundle, time.Time{})
	require.NoError(t, err)
	if len(is.leaf.URIs) == 1 {
		_, _, err := x509svid.Verify(chain, bundle)
		require.NoError(t, err)
	}
	certstest.RequireOpenSSLVerify(t, bundle.X509Authorities(), is.intermediates, is.leaf)
}

func uriStrings(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}
