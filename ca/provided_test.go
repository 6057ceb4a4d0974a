package ca_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func TestProvidedRoot(t *testing.T) {
	root := certstest.NewRoot(t, "provided root")
	dir := t.TempDir()
	certFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(certFile, root.CertPEM(), 0o600))
	secrets := map[string][]byte{"ca-key": root.KeyPEM(t)}
	m := newManager(t, ca.Options{Secrets: func(_ context.Context, mesh, name string) ([]byte, error) {
		if b, ok := secrets[name]; ok && mesh == "default" {
			return b, nil
		}
		return nil, errors.New("no such secret")
	}})

	for name, b := range map[string]api.CABackend{
		"inlineString": provided("ca-1", inlineString(root.CertPEM()), inlineString(root.KeyPEM(t))),
		"inline":       provided("ca-1", map[string]any{"inline": base64.StdEncoding.EncodeToString(root.CertPEM())}, map[string]any{"inline": base64.StdEncoding.EncodeToString(root.KeyPEM(t))}),
		"file+secret":  provided("ca-1", map[string]any{"file": certFile}, map[string]any{"secret": "ca-key"}),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := m.For(context.Background(), meshWith("default", b))
			require.NoError(t, err)
			bundle := bundleOf(t, a)
			require.Len(t, bundle.X509Authorities(), 1)
			assert.True(t, bundle.X509Authorities()[0].Equal(root.Cert))

			is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"version": {"v1"}}})
			verifyBoth(t, bundle, is)
			assert.Empty(t, is.intermediates)
			assert.Equal(t, []string{"spiffe://default/web", "kuma://version/v1"}, uriStrings(is.leaf))
		})
	}
}

func TestProvidedIntermediate(t *testing.T) {
	root := certstest.NewRoot(t, "provided root", certstest.Key(certs.RSA(2048)))
	inter := root.NewIntermediate(t, "provided intermediate")
	m := newManager(t, ca.Options{})
	a, err := m.For(context.Background(), meshWith("default", provided("ca-1", inlineString(inter.ChainPEM()), inlineString(inter.KeyPEM(t)))))
	require.NoError(t, err)

	bundle := bundleOf(t, a)
	require.Len(t, bundle.X509Authorities(), 1, "only the root is a trust anchor")
	assert.True(t, bundle.X509Authorities()[0].Equal(root.Cert))

	is := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web", "web-admin"}})
	require.Len(t, is.intermediates, 1, "the intermediate ships after the leaf")
	assert.True(t, is.intermediates[0].Equal(inter.Cert))
	assert.Equal(t, []string{"spiffe://default/web", "spiffe://default/web-admin"}, uriStrings(is.leaf))
	verifyBoth(t, bundle, is)
}

// Every broken provided CA is refused at load, with the mesh, the backend and the problem.
func TestProvidedErrors(t *testing.T) {
	now := time.Now()
	root := certstest.NewRoot(t, "root")
	other := certstest.NewRoot(t, "other root")
	expired := certstest.NewRoot(t, "expired", certstest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour)))
	future := certstest.NewRoot(t, "future", certstest.Validity(now.Add(time.Hour), now.Add(48*time.Hour)))
	notCA := certstest.NewRoot(t, "not a ca", certstest.NotCA())
	noCertSign := certstest.NewRoot(t, "no certsign", certstest.KeyUsage(0x40|0x80)) // CRLSign|EncipherOnly
	inter := root.NewIntermediate(t, "intermediate")
	expiredInter := root.NewIntermediate(t, "expired intermediate", certstest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour)))

	for _, tc := range []struct {
		name      string
		cert, key map[string]any
		is        error
		msg       string
	}{
		{"key mismatch", inlineString(root.CertPEM()), inlineString(other.KeyPEM(t)), ca.ErrKeyMismatch, `key does not match the CA certificate: certificate "CN=root,O=meshgate test"`},
		{"expired", inlineString(expired.CertPEM()), inlineString(expired.KeyPEM(t)), ca.ErrExpired, `CA certificate has expired: certificate "CN=expired,O=meshgate test" expired at`},
		{"not yet valid", inlineString(future.CertPEM()), inlineString(future.KeyPEM(t)), ca.ErrNotYetValid, `CA certificate is not yet valid: certificate "CN=future,O=meshgate test" is valid from`},
		{"not a CA", inlineString(notCA.CertPEM()), inlineString(notCA.KeyPEM(t)), ca.ErrNotCA, `not a CA certificate: certificate "CN=not a ca,O=meshgate test" has no basicConstraints CA:true`},
		{"no certSign", inlineString(noCertSign.CertPEM()), inlineString(noCertSign.KeyPEM(t)), ca.ErrNoCertSign, `CA certificate lacks the keyCertSign key usage: certificate "CN=no certsign,O=meshgate test"`},
		{"expired intermediate", inlineString(expiredInter.ChainPEM()), inlineString(expiredInter.KeyPEM(t)), ca.ErrExpired, `certificate "CN=expired intermediate,O=meshgate test" expired at`},
		{"intermediate without root", inlineString(inter.CertPEM()), inlineString(inter.KeyPEM(t)), ca.ErrNoRoot, `does not end with a self-signed root: certificate "CN=intermediate,O=meshgate test" is issued by "CN=root,O=meshgate test"`},
		{"broken chain", inlineString(append(inter.CertPEM(), other.CertPEM()...)), inlineString(inter.KeyPEM(t)), ca.ErrBrokenChain, `certificate "CN=intermediate,O=meshgate test" is not signed by the next certificate, certificate "CN=other root,O=meshgate test"`},
		{"cert not PEM", inlineString([]byte("hello")), inlineString(root.KeyPEM(t)), nil, "conf.cert: parse certificates"},
		{"key not PEM", inlineString(root.CertPEM()), inlineString([]byte("hello")), nil, "conf.key: parse private key"},
		{"empty cert", inlineString(nil), inlineString(root.KeyPEM(t)), nil, "conf.cert: exactly one of secret, file, inline or inlineString must be set"},
		{"missing key", inlineString(root.CertPEM()), nil, nil, "conf.key: is required"},
		{"two sources", map[string]any{"inlineString": "x", "file": "/x"}, inlineString(root.KeyPEM(t)), nil, "conf.cert: exactly one of"},
		{"missing file", map[string]any{"file": filepath.Join(t.TempDir(), "nope.pem")}, inlineString(root.KeyPEM(t)), os.ErrNotExist, "conf.cert.file: open "},
		{"bad base64", map[string]any{"inline": "!!!"}, inlineString(root.KeyPEM(t)), nil, "conf.cert.inline: invalid base64"},
		{"secret without resolver", map[string]any{"secret": "ca-cert"}, inlineString(root.KeyPEM(t)), nil, `conf.cert.secret "ca-cert": no secret resolver configured`},
		{"unknown source", map[string]any{"path": "/x"}, inlineString(root.KeyPEM(t)), nil, `conf: json: unknown field "path"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, ca.Options{})
			_, err := m.For(context.Background(), meshWith("default", provided("my-ca", tc.cert, tc.key)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), `mesh "default": CA backend "my-ca" (provided): `)
			assert.Contains(t, err.Error(), tc.msg)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
		})
	}
}

func TestProvidedSecretResolverError(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	m := newManager(t, ca.Options{Secrets: func(context.Context, string, string) ([]byte, error) {
		return nil, errors.New("secret not found")
	}})
	_, err := m.For(context.Background(), meshWith("default", provided("ca-1", inlineString(root.CertPEM()), map[string]any{"secret": "ca-key"})))
	require.ErrorContains(t, err, `mesh "default": CA backend "ca-1" (provided): conf.key.secret "ca-key": secret not found`)
}
