package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/x509util"
)

// appendPEM replaces pem.Encode on the issuance path, so it must write the same bytes, at the
// length pemLen announces, for every length (lines full, partial and none).
func TestAppendPEMIsPEMEncode(t *testing.T) {
	for n := range 300 {
		der := make([]byte, n)
		_, err := rand.Read(der)
		require.NoError(t, err)
		for _, typ := range []string{pemCertificate, pemPrivateKey} {
			want := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
			got := appendPEM(nil, typ, der)
			require.Equal(t, string(want), string(got), "%s of %d bytes", typ, n)
			require.Len(t, got, pemLen(typ, n), "%s of %d bytes", typ, n)
		}
	}
	prefix := []byte("before\n")
	got := appendPEM(bytes.Clone(prefix), pemCertificate, []byte{1, 2, 3})
	assert.Equal(t, string(prefix)+string(pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: []byte{1, 2, 3}})), string(got))
}

// marshalP256PKCS8 replaces x509.MarshalPKCS8PrivateKey for leaf keys, so it must write the same
// DER: for random keys, and for scalars with leading zero bytes, which must be padded.
func TestP256PKCS8IsX509s(t *testing.T) {
	var keys []*ecdsa.PrivateKey
	for range 100 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		keys = append(keys, k)
	}
	for _, d := range [][]byte{{1}, {0, 0, 0, 7, 0xff}, bytes.Repeat([]byte{0x11}, 31)} {
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), append(make([]byte, 32-len(d)), d...))
		require.NoError(t, err)
		keys = append(keys, k)
	}
	for _, k := range keys {
		want, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		got, err := marshalP256PKCS8(k)
		require.NoError(t, err)
		require.Equal(t, want, got, "key with scalar %x", k.D)

		pemBytes, err := EncodePrivateKey(k)
		require.NoError(t, err)
		require.Equal(t, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: want})), string(pemBytes))
	}

	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, err = marshalP256PKCS8(other)
	require.ErrorContains(t, err, "want P-256")
	// EncodePrivateKey still takes it, the general way.
	b, err := EncodePrivateKey(other)
	require.NoError(t, err)
	back, err := ParsePrivateKey(b)
	require.NoError(t, err)
	require.NoError(t, KeyMatches(other.Public(), back))
}

// LeafTemplate sets the subject key id of ECDSA keys itself, to what x509util would have given.
func TestLeafSubjectKeyIDIsX509utils(t *testing.T) {
	for range 10 {
		k, err := GenerateKey(ECDSAP256)
		require.NoError(t, err)
		want, err := x509util.GenerateSubjectKeyID(k.Public())
		require.NoError(t, err)
		got, err := subjectKeyID(k.Public())
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	r, err := GenerateKey(RSA(2048))
	require.NoError(t, err)
	got, err := subjectKeyID(r.Public())
	require.NoError(t, err)
	assert.Nil(t, got, "left to x509util")
}

// LeafTemplate builds its x509.Certificate directly; it must be the one x509util would build
// from the same fields.
func TestLeafTemplateIsX509utils(t *testing.T) {
	for _, spec := range []KeySpec{ECDSAP256, RSA(2048)} {
		k, err := GenerateKey(spec)
		require.NoError(t, err)
		uris, err := Identity{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"version": {"v1"}}}.URIs()
		require.NoError(t, err)
		serial, err := NewSerial()
		require.NoError(t, err)
		p := LeafParams{URIs: uris, PublicKey: k.Public(), Serial: serial, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		got, err := LeafTemplate(p)
		require.NoError(t, err)
		ku, err := leafKeyUsage(p.PublicKey)
		require.NoError(t, err)
		skid, err := subjectKeyID(p.PublicKey)
		require.NoError(t, err)
		want := (&x509util.Certificate{
			URIs:             p.URIs,
			KeyUsage:         x509util.KeyUsage(ku),
			ExtKeyUsage:      x509util.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			BasicConstraints: &x509util.BasicConstraints{IsCA: false},
			SerialNumber:     x509util.SerialNumber{Int: p.Serial},
			SubjectKeyID:     skid,
			NotBefore:        p.NotBefore,
			NotAfter:         p.NotAfter,
			PublicKey:        p.PublicKey,
		}).GetCertificate()
		require.Equal(t, want, got, spec.String())
	}
}
