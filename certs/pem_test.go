package certs_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func TestPrivateKeyPEM(t *testing.T) {
	for _, spec := range []certs.KeySpec{certs.ECDSAP256, certs.RSA(2048)} {
		t.Run(spec.String(), func(t *testing.T) {
			k, err := certs.GenerateKey(spec)
			require.NoError(t, err)
			b, err := certs.EncodePrivateKey(k)
			require.NoError(t, err)
			block, _ := pem.Decode(b)
			require.NotNil(t, block)
			assert.Equal(t, "PRIVATE KEY", block.Type, "PKCS#8 for every key type")
			back, err := certs.ParsePrivateKey(b)
			require.NoError(t, err)
			require.NoError(t, certs.KeyMatches(k.Public(), back))
		})
	}
}

func TestParsePrivateKeyLegacyForms(t *testing.T) {
	ec, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ec.(*ecdsa.PrivateKey))
	require.NoError(t, err)
	k, err := certs.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	require.NoError(t, err)
	require.NoError(t, certs.KeyMatches(ec.Public(), k))

	r, err := certs.GenerateKey(certs.RSA(2048))
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PrivateKey(r.(*rsa.PrivateKey))
	k, err = certs.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}))
	require.NoError(t, err)
	require.NoError(t, certs.KeyMatches(r.Public(), k))
}

func TestParsePrivateKeyErrors(t *testing.T) {
	_, err := certs.ParsePrivateKey(nil)
	require.ErrorContains(t, err, "no data")
	_, err = certs.ParsePrivateKey([]byte("not a key"))
	require.ErrorContains(t, err, "parse private key")
	root := certstest.NewRoot(t, "root")
	_, err = certs.ParsePrivateKey(root.CertPEM())
	require.ErrorContains(t, err, "parse private key")
}

func TestCertificatesPEM(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	inter := root.NewIntermediate(t, "intermediate")
	b := certs.EncodeCertificates(inter.Chain()...)
	back, err := certs.ParseCertificates(b)
	require.NoError(t, err)
	require.Len(t, back, 2)
	assert.True(t, back[0].Equal(inter.Cert))
	assert.True(t, back[1].Equal(root.Cert))

	_, err = certs.ParseCertificates(nil)
	require.ErrorContains(t, err, "no data")
	_, err = certs.ParseCertificates([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	require.ErrorContains(t, err, "parse certificates")
	_, err = certs.ParseCertificates(root.KeyPEM(t))
	require.ErrorContains(t, err, "parse certificates")
}
