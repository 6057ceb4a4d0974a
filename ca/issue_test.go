package ca_test

import (
	"context"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func TestNotAfterCappedAtIssuer(t *testing.T) {
	now := time.Now()
	rootEnd := now.Add(2 * time.Hour).Truncate(time.Second)
	root := certstest.NewRoot(t, "short root", certstest.Validity(now.Add(-time.Hour), rootEnd))
	m := newManager(t, ca.Options{})
	a, err := m.For(context.Background(), meshWith("default", provided("ca-1", inlineString(root.CertPEM()), inlineString(root.KeyPEM(t)))))
	require.NoError(t, err)

	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	assert.Equal(t, rootEnd.UTC(), is.NotAfter.UTC(), "24 h leaf cut at the root's end")
	assertWithin(t, now.Add(2*time.Hour*4/5-time.Second), time.Now().Add(2*time.Hour*4/5), is.RenewAt)
	verifyBoth(t, bundleOf(t, a), is)
}

func TestNotAfterCappedAtIntermediate(t *testing.T) {
	now := time.Now()
	interEnd := now.Add(3 * time.Hour).Truncate(time.Second)
	root := certstest.NewRoot(t, "root")
	inter := root.NewIntermediate(t, "short intermediate", certstest.Validity(now.Add(-time.Hour), interEnd))
	m := newManager(t, ca.Options{})
	a, err := m.For(context.Background(), meshWith("default", provided("ca-1", inlineString(inter.ChainPEM()), inlineString(inter.KeyPEM(t)))))
	require.NoError(t, err)
	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	assert.Equal(t, interEnd.UTC(), is.NotAfter.UTC())
	verifyBoth(t, bundleOf(t, a), is)
}

func TestNotBeforeNotBeforeIssuer(t *testing.T) {
	now := time.Now()
	rootStart := now.Add(-10 * time.Second).Truncate(time.Second)
	root := certstest.NewRoot(t, "fresh root", certstest.Validity(rootStart, now.Add(time.Hour)))
	m := newManager(t, ca.Options{})
	a, err := m.For(context.Background(), meshWith("default", provided("ca-1", inlineString(root.CertPEM()), inlineString(root.KeyPEM(t)))))
	require.NoError(t, err)
	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	assert.Equal(t, rootStart.UTC(), is.NotBefore.UTC(), "backdating stops at the issuer's NotBefore")
}

func TestIssuerExpiredSinceLoad(t *testing.T) {
	clock := time.Now()
	root := certstest.NewRoot(t, "root", certstest.Validity(clock.Add(-time.Hour), clock.Add(time.Hour)))
	m := newManager(t, ca.Options{Now: func() time.Time { return clock }})
	a, err := m.For(context.Background(), meshWith("default", provided("ca-1", inlineString(root.CertPEM()), inlineString(root.KeyPEM(t)))))
	require.NoError(t, err)
	clock = clock.Add(2 * time.Hour)
	_, err = a.Issue(context.Background(), ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	require.ErrorIs(t, err, ca.ErrExpired)
	require.ErrorContains(t, err, `mesh "default": CA backend "ca-1" (provided): issue: CA certificate has expired`)
}

func TestSerialsUniqueAnd128Bit(t *testing.T) {
	m := newManager(t, ca.Options{})
	a, err := m.For(context.Background(), meshWith("default", builtin("ca-1", nil)))
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 200 {
		is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
		s := is.leaf.SerialNumber
		require.Equal(t, 128, s.BitLen())
		require.Equal(t, 1, s.Cmp(big.NewInt(0)))
		require.False(t, seen[s.String()], "duplicate serial %s", s)
		seen[s.String()] = true
	}
}

func TestIssueRequestErrors(t *testing.T) {
	m := newManager(t, ca.Options{})
	a, err := m.For(context.Background(), meshWith("default", builtin("ca-1", nil)))
	require.NoError(t, err)
	for _, tc := range []struct {
		req ca.IssueRequest
		msg string
	}{
		{ca.IssueRequest{Mesh: "other", Services: []string{"web"}}, `mesh "default": refusing to issue for mesh "other"`},
		{ca.IssueRequest{Services: []string{"web"}}, `refusing to issue for mesh ""`},
		{ca.IssueRequest{Mesh: "default"}, "issue: identity has no service"},
		{ca.IssueRequest{Mesh: "default", Services: []string{"a/b"}}, `service "a/b" as SPIFFE path`},
		{ca.IssueRequest{Mesh: "default", Services: []string{"web"}, Lifetime: -time.Second}, "lifetime must not be negative"},
	} {
		_, err := a.Issue(context.Background(), tc.req)
		require.ErrorContains(t, err, tc.msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Issue(ctx, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	require.ErrorIs(t, err, context.Canceled)
}

// Every backend a mesh lists is trusted; only the enabled one issues.
func TestBundleHoldsEveryBackendRoot(t *testing.T) {
	ctx := context.Background()
	provRoot := certstest.NewRoot(t, "provided")
	mesh := &api.Mesh{
		Meta: api.Meta{Kind: api.KindMesh, Name: "default"},
		Spec: api.MeshSpec{MTLS: &api.MTLS{EnabledBackend: "new", Backends: []api.CABackend{
			provided("old", inlineString(provRoot.CertPEM()), inlineString(provRoot.KeyPEM(t))),
			builtin("new", nil),
		}}},
	}
	m := newManager(t, ca.Options{})
	a, err := m.For(ctx, mesh)
	require.NoError(t, err)
	bundle := bundleOf(t, a)
	require.Len(t, bundle.X509Authorities(), 2)
	assert.True(t, bundle.HasX509Authority(provRoot.Cert))

	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	assert.Equal(t, "new", is.Backend)
	verifyBoth(t, bundle, is)
	_, err = certs.VerifySVID([]*x509.Certificate{is.leaf}, mustBundle(t, provRoot.Cert), time.Time{})
	require.Error(t, err, "issued by the enabled backend, not the other")

	// The caller owns the bundle it gets.
	bundle.RemoveX509Authority(provRoot.Cert)
	assert.Len(t, bundleOf(t, a).X509Authorities(), 2)
}

func TestForCachesUntilMTLSChanges(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, ca.Options{})
	mesh := meshWith("default", builtin("ca-1", nil))
	a1, err := m.For(ctx, mesh)
	require.NoError(t, err)
	a2, err := m.For(ctx, meshWith("default", builtin("ca-1", nil)))
	require.NoError(t, err)
	assert.Same(t, a1, a2)

	changed := meshWith("default", builtin("ca-1", nil))
	changed.Spec.MTLS.Backends[0].DpCert = &api.DpCert{Rotation: &api.Rotation{Expiration: "2h"}}
	a3, err := m.For(ctx, changed)
	require.NoError(t, err)
	assert.NotSame(t, a1, a3)
	assert.True(t, bundleOf(t, a1).Equal(bundleOf(t, a3)), "same stored root")

	m.Forget("default")
	a4, err := m.For(ctx, changed)
	require.NoError(t, err)
	assert.NotSame(t, a3, a4)
}

func TestForErrors(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, ca.Options{})
	_, err := m.For(ctx, nil)
	require.Error(t, err)

	_, err = m.For(ctx, &api.Mesh{Meta: api.Meta{Name: "plain"}})
	require.ErrorIs(t, err, ca.ErrMTLSDisabled)
	require.ErrorContains(t, err, `mesh "plain"`)

	_, err = m.For(ctx, meshWith("default", api.CABackend{Name: "step", Type: api.CABackendStepCA}))
	require.ErrorContains(t, err, `mesh "default": CA backend "step" (stepca): conf.url: required`)

	bad := meshWith("default", builtin("ca-1", nil))
	bad.Spec.MTLS.EnabledBackend = "missing"
	_, err = m.For(ctx, bad)
	require.ErrorContains(t, err, `enabledBackend "missing" is not one of its backends`)

	_, err = ca.New(nil, ca.Options{})
	require.Error(t, err)
	_, err = ca.New(openStore(t, t.TempDir()), ca.Options{LeafKey: certs.RSA(1024)})
	require.ErrorContains(t, err, "leaf key")
	_, err = ca.New(openStore(t, t.TempDir()), ca.Options{Backdate: -time.Second})
	require.ErrorContains(t, err, "backdate")
}

func mustBundle(t *testing.T, roots ...*x509.Certificate) *x509bundle.Bundle {
	t.Helper()
	b, err := certs.NewBundle("default", roots...)
	require.NoError(t, err)
	return b
}
