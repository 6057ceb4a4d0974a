package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
)

func TestBuiltinECDSA(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, ca.Options{})
	a, err := m.For(ctx, meshWith("default", builtin("ca-1", nil)))
	require.NoError(t, err)

	bundle := bundleOf(t, a)
	require.Len(t, bundle.X509Authorities(), 1)
	root := bundle.X509Authorities()[0]
	_, ok := root.PublicKey.(*ecdsa.PublicKey)
	assert.True(t, ok, "default root key is ECDSA, got %T", root.PublicKey)
	assert.Equal(t, x509.ECDSAWithSHA256, root.SignatureAlgorithm)
	assertKumaRoot(t, root, "default", ca.DefaultRootLifetime)

	before := time.Now()
	is := issue(t, a, ca.IssueRequest{
		Mesh:     "default",
		Services: []string{"web"},
		Tags:     map[string][]string{"kuma.io/service": {"web"}, "kuma.io/zone": {"zone-1"}, "version": {"v1"}},
	})
	after := time.Now()
	verifyBoth(t, bundle, is)
	assert.Equal(t, []string{
		"spiffe://default/web",
		"kuma://kuma.io/service/web",
		"kuma://kuma.io/zone/zone-1",
		"kuma://version/v1",
	}, uriStrings(is.leaf))
	_, ok = is.key.(*ecdsa.PrivateKey)
	assert.True(t, ok, "default leaf key is ECDSA P-256, got %T", is.key)
	assert.Equal(t, "ca-1", is.Backend)
	assert.Empty(t, is.intermediates, "a root-signed leaf ships alone; the root comes with the bundle")
	assert.ElementsMatch(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, is.leaf.ExtKeyUsage)

	// 24 h by default, backdated by a minute, renewed at 80 % of the life since issuance.
	assertWithin(t, before.Add(-ca.DefaultBackdate), after.Add(-ca.DefaultBackdate), is.NotBefore)
	assertWithin(t, before.Add(ca.DefaultLeafLifetime), after.Add(ca.DefaultLeafLifetime), is.NotAfter)
	assert.Equal(t, is.leaf.NotBefore, is.NotBefore)
	assert.Equal(t, is.leaf.NotAfter, is.NotAfter)
	assertWithin(t, before.Add(ca.DefaultLeafLifetime*4/5-time.Second), after.Add(ca.DefaultLeafLifetime*4/5), is.RenewAt)
}

func TestBuiltinRSA(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, ca.Options{})
	a, err := m.For(ctx, meshWith("rsa-mesh", builtin("ca-rsa", map[string]any{
		"caCert": map[string]any{"RSAbits": 2048, "expiration": "2y"},
	})))
	require.NoError(t, err)
	bundle := bundleOf(t, a)
	root := bundle.X509Authorities()[0]
	pub, ok := root.PublicKey.(*rsa.PublicKey)
	require.True(t, ok, "RSAbits asks for an RSA root, got %T", root.PublicKey)
	assert.Equal(t, 2048, pub.N.BitLen())
	assertKumaRoot(t, root, "rsa-mesh", 2*365*24*time.Hour)

	is := issue(t, a, ca.IssueRequest{Mesh: "rsa-mesh", Services: []string{"api"}})
	verifyBoth(t, bundle, is)
	assert.Equal(t, x509.SHA256WithRSA, is.leaf.SignatureAlgorithm)
	_, ok = is.key.(*ecdsa.PrivateKey)
	assert.True(t, ok, "the leaf key stays ECDSA under an RSA root")
}

func TestRSALeafKeyHasKumaKeyUsage(t *testing.T) {
	m := newManager(t, ca.Options{LeafKey: certs.RSA(2048)})
	a, err := m.For(context.Background(), meshWith("default", builtin("ca-1", nil)))
	require.NoError(t, err)
	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	_, ok := is.key.(*rsa.PrivateKey)
	require.True(t, ok, "got %T", is.key)
	assert.Equal(t, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement, is.leaf.KeyUsage)
	verifyBoth(t, bundleOf(t, a), is)
}

func TestBuiltinConfErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    api.CABackend
		msg  string
	}{
		{"rsa size", builtin("ca-1", map[string]any{"caCert": map[string]any{"RSAbits": 1024}}), "conf.caCert.RSAbits: RSA key size 1024"},
		{"expiration", builtin("ca-1", map[string]any{"caCert": map[string]any{"expiration": "soon"}}), "conf.caCert.expiration"},
		{"negative expiration", builtin("ca-1", map[string]any{"caCert": map[string]any{"expiration": "-1d"}}), "conf.caCert.expiration: must be a positive duration"},
		{"unknown field", builtin("ca-1", map[string]any{"caCert": map[string]any{"bits": 2048}}), `conf: json: unknown field "bits"`},
		{"leaf lifetime", api.CABackend{Name: "ca-1", Type: api.CABackendBuiltin, DpCert: &api.DpCert{Rotation: &api.Rotation{Expiration: "0s"}}}, "dpCert.rotation.expiration: must be a positive duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, ca.Options{})
			_, err := m.For(context.Background(), meshWith("default", tc.b))
			require.ErrorContains(t, err, `mesh "default": CA backend "ca-1" (builtin): `+tc.msg)
			var be *ca.BackendError
			require.True(t, errors.As(err, &be))
		})
	}
}

func TestLeafLifetime(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, ca.Options{})
	b := builtin("ca-1", nil)
	b.DpCert = &api.DpCert{Rotation: &api.Rotation{Expiration: "1h"}}
	a, err := m.For(ctx, meshWith("default", b))
	require.NoError(t, err)

	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	assert.Equal(t, time.Hour+ca.DefaultBackdate, is.NotAfter.Sub(is.NotBefore), "dpCert.rotation.expiration")

	is = issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}, Lifetime: 10 * time.Minute})
	assert.Equal(t, 10*time.Minute+ca.DefaultBackdate, is.NotAfter.Sub(is.NotBefore), "request lifetime")
}

func TestBackdateOption(t *testing.T) {
	m := newManager(t, ca.Options{Backdate: 5 * time.Second})
	a, err := m.For(context.Background(), meshWith("default", builtin("ca-1", nil)))
	require.NoError(t, err)
	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	assert.Equal(t, ca.DefaultLeafLifetime+5*time.Second, is.NotAfter.Sub(is.NotBefore))
}

func assertKumaRoot(t *testing.T, root *x509.Certificate, mesh string, lifetime time.Duration) {
	t.Helper()
	assert.Equal(t, []string{"Kuma"}, root.Subject.Organization)
	assert.Equal(t, []string{"Mesh"}, root.Subject.OrganizationalUnit)
	assert.Equal(t, mesh, root.Subject.CommonName)
	assert.Equal(t, []string{"spiffe://" + mesh}, uriStrings(root))
	assert.True(t, root.BasicConstraintsValid && root.IsCA)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, root.KeyUsage)
	assert.Positive(t, root.SerialNumber.Sign(), "Kuma's serial 0 is not allowed by RFC 5280")
	assert.Equal(t, 128, root.SerialNumber.BitLen())
	assert.Equal(t, lifetime+ca.DefaultBackdate, root.NotAfter.Sub(root.NotBefore))
	assertWithin(t, time.Now().Add(lifetime-time.Minute), time.Now().Add(lifetime), root.NotAfter)
}

func assertWithin(t *testing.T, lo, hi, got time.Time) {
	t.Helper()
	// Certificates carry whole seconds.
	lo, hi = lo.Truncate(time.Second).Add(-time.Second), hi.Add(time.Second)
	assert.False(t, got.Before(lo) || got.After(hi), "%s not within [%s, %s]", got, lo, hi)
}
