package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeTLSGateway writes an HTTPS gateway whose certificate is generated for this test only.
func writeTLSGateway(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a.example.com"},
		DNSNames: []string{"a.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	bundle := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	yaml := `
type: Dataplane
mesh: default
name: gw
networking:
  address: 10.0.0.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}
---
type: Secret
mesh: default
name: a-cert
data: ` + base64.StdEncoding.EncodeToString(bundle) + `
---
type: MeshGateway
mesh: default
name: gw
selectors: [{match: {kuma.io/service: gw}}]
conf:
  listeners:
  - {port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {mode: TERMINATE, certificates: [{secret: a-cert}]}}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gw.yaml"), []byte(yaml), 0o644))
}
