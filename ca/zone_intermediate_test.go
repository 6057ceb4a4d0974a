package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/url"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func zoneCSR(t *testing.T) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "zone"}}, key)
	require.NoError(t, err)
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// zoneLeaf signs a workload leaf with a zone intermediate, as the zone's soft backend would.
func zoneLeaf(t *testing.T, mesh string, inter *x509.Certificate, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	id, err := certs.ServiceID(mesh, "web")
	require.NoError(t, err)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := certs.NewSerial()
	require.NoError(t, err)
	tmpl, err := certs.LeafTemplate(certs.LeafParams{URIs: []*url.URL{id.URL()}, PublicKey: leafKey.Public(), Serial: serial,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, inter, leafKey.Public(), key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return leaf
}

func TestZoneIntermediatesVerifyAgainstMeshRoot(t *testing.T) {
	ctx := context.Background()
	mgr := newManager(t, ca.Options{})
	mesh := meshWith("zm", builtin("ca-1", nil))

	var inters []*x509.Certificate
	var root *x509.Certificate
	for _, zone := range []string{"zone-1", "zone-2"} {
		key, csr := zoneCSR(t)
		out, err := mgr.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: mesh, Backend: "ca-1", Zone: zone, CSRPEM: csr})
		require.NoError(t, err)
		chain, err := certs.ParseCertificates(out)
		require.NoError(t, err)
		require.Len(t, chain, 2)
		inter := chain[0]
		require.True(t, inter.IsCA)
		require.True(t, inter.MaxPathLenZero)
		require.Equal(t, []string{"spiffe://zm"}, uriStrings(inter))
		require.NoError(t, inter.CheckSignatureFrom(chain[1]))
		if root != nil {
			require.True(t, root.Equal(chain[1]), "both zones get the same root")
		}
		root = chain[1]
		inters = append(inters, inter)

		bundle, err := certs.NewBundle("zm", root)
		require.NoError(t, err)
		leaf := zoneLeaf(t, "zm", inter, key)
		_, _, err = x509svid.Verify([]*x509.Certificate{leaf, inter}, bundle)
		require.NoError(t, err, zone)
		certstest.RequireOpenSSLVerify(t, []*x509.Certificate{root}, []*x509.Certificate{inter}, leaf)
	}
	// The mesh's own Authority (global's, standalone) has the same root in its bundle.
	a, err := mgr.For(ctx, mesh)
	require.NoError(t, err)
	require.True(t, bundleOf(t, a).X509Authorities()[0].Equal(root))

	// Revoking zone-1 lists its intermediate, and only it, in a CRL signed by the root.
	require.NoError(t, mgr.RevokeZoneIntermediates(ctx, "zm", "ca-1", "zone-1"))
	crlPEM, err := mgr.CRL(ctx, mesh)
	require.NoError(t, err)
	block, _ := pem.Decode(crlPEM)
	require.NotNil(t, block)
	crl, err := x509.ParseRevocationList(block.Bytes)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(root))
	require.Len(t, crl.RevokedCertificateEntries, 1)
	require.Equal(t, 0, crl.RevokedCertificateEntries[0].SerialNumber.Cmp(inters[0].SerialNumber))

	// A revoked zone gets no new intermediate; the other zone still does.
	_, csr := zoneCSR(t)
	_, err = mgr.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: mesh, Backend: "ca-1", Zone: "zone-1", CSRPEM: csr})
	require.ErrorIs(t, err, ca.ErrZoneRevoked)
	_, err = mgr.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: mesh, Backend: "ca-1", Zone: "zone-2", CSRPEM: csr})
	require.NoError(t, err)
}

func TestZoneIntermediateRefusesNonBuiltinAndBadCSR(t *testing.T) {
	ctx := context.Background()
	mgr := newManager(t, ca.Options{})
	_, csr := zoneCSR(t)
	mesh := meshWith("zp", provided("ca-p", nil, nil))
	_, err := mgr.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: mesh, Backend: "ca-p", Zone: "zone-1", CSRPEM: csr})
	require.ErrorContains(t, err, "only a builtin backend signs zone intermediates")

	rsaMesh := meshWith("zr", builtin("ca-r", map[string]any{"caCert": map[string]any{"RSAbits": 2048}}))
	_, err = mgr.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: rsaMesh, Backend: "ca-r", Zone: "zone-1", CSRPEM: csr})
	require.ErrorContains(t, err, "ECDSA key, the backend wants")

	bad := append([]byte(nil), csr...)
	_, err = mgr.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: meshWith("zb", builtin("ca-1", nil)), Backend: "ca-1", Zone: "zone-1", CSRPEM: bad[:20]})
	require.ErrorContains(t, err, "CSR")
}
