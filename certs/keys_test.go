package certs_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
)

func TestGenerateKey(t *testing.T) {
	k, err := certs.GenerateKey(certs.KeySpec{})
	require.NoError(t, err)
	ec, ok := k.(*ecdsa.PrivateKey)
	require.True(t, ok, "default key is ECDSA, got %T", k)
	assert.Equal(t, elliptic.P256(), ec.Curve)

	k, err = certs.GenerateKey(certs.RSA(2048))
	require.NoError(t, err)
	r, ok := k.(*rsa.PrivateKey)
	require.True(t, ok, "got %T", k)
	assert.Equal(t, 2048, r.N.BitLen())
}

func TestKeySpecValidate(t *testing.T) {
	for _, ok := range []certs.KeySpec{{}, certs.ECDSAP256, certs.RSA(2048), certs.RSA(3072), certs.RSA(4096)} {
		assert.NoError(t, ok.Validate(), ok.String())
	}
	for spec, msg := range map[certs.KeySpec]string{
		certs.RSA(1024):                  "must be 2048, 3072 or 4096",
		certs.RSA(0):                     "must be 2048, 3072 or 4096",
		{Type: certs.KeyEC, Bits: 384}:   "P-256 only",
		{Type: "OKP"}:                    `unknown key type "OKP"`,
		{Type: certs.KeyRSA, Bits: 8192}: "must be 2048, 3072 or 4096",
	} {
		require.ErrorContains(t, spec.Validate(), msg)
		_, err := certs.GenerateKey(spec)
		require.ErrorContains(t, err, msg)
	}
	assert.Equal(t, "ECDSA-P256", certs.KeySpec{}.String())
	assert.Equal(t, "RSA-4096", certs.RSA(4096).String())
}

func TestKeyMatches(t *testing.T) {
	a, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	b, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	require.NoError(t, certs.KeyMatches(a.Public(), a))
	require.ErrorContains(t, certs.KeyMatches(a.Public(), b), "does not match")
}
