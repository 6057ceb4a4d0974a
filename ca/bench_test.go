package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
)

// The two benchmarks below are meant to be read side by side from one run:
//
//	go test -run '^$' -bench 'Issue$|BareCreateCertificate|VerifySVID' -benchmem ./ca/
//
// Both sign, per operation, one ECDSA P-256 leaf with a fresh P-256 key under an ECDSA P-256
// root, with the same URI SANs, usages and lifetime, on one goroutine (throughput per core).
// Key generation is inside both loops because a leaf always gets a new key, and in both
// x509.CreateCertificate verifies the signature it has just made before returning it.
//
// On top of that bare floor Issue pays for what makes it a CA rather than a signing loop: the
// SPIFFE and kuma:// URIs and the template (with a subject key identifier, which the bare leaf
// lacks; the bare root also has an empty subject), parsing the signed certificate back
// (smallstep's softcas returns it parsed), the structural checks of the leaf (issuer and key
// identifier linkage, CA:false, exactly the requested URIs, the leaf key, validity within the
// chain's: checkLeaf), and PEM encoding of the chain and the PKCS#8 key. It does not verify the
// leaf's signature a second time for a backend that signs in this process; a leaf from step-ca
// is verified against the mesh bundle, and BenchmarkVerifySVID measures that step. The target
// (issue 18) is Issue ns/op <= 1.11 x BareCreateCertificate ns/op, that is issuance at >= 0.9x
// the bare rate. The largest part of Issue's cost above the bare loop is the parse the checks
// need (about as much as everything else it adds together), and being allocation-heavy it also
// makes Issue pay more GC than the bare loop.

var benchReq = ca.IssueRequest{
	Mesh:     "default",
	Services: []string{"web"},
	Tags:     map[string][]string{"kuma.io/service": {"web"}, "kuma.io/zone": {"zone-1"}, "version": {"v1"}},
}

func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	m := newManager(b, ca.Options{})
	a, err := m.For(ctx, meshWith("default", builtin("ca-1", nil)))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Issue(ctx, benchReq); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareCreateCertificate(b *testing.B) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(b, err)
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	require.NoError(b, err)
	root, err := x509.ParseCertificate(der)
	require.NoError(b, err)
	uris, err := certs.Identity{Mesh: benchReq.Mesh, Services: benchReq.Services, Tags: benchReq.Tags}.URIs()
	require.NoError(b, err)
	serial := new(big.Int).Lsh(big.NewInt(1), 127)

	b.ReportAllocs()
	for b.Loop() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			URIs:                  []*url.URL(uris),
			NotBefore:             now.Add(-time.Minute),
			NotAfter:              now.Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			BasicConstraintsValid: true,
		}
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, root, &key.PublicKey, rootKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySVID is the full verification of a leaf against the mesh bundle: what Issue
// adds for a step-ca leaf, and what it no longer spends on a leaf it signs itself.
func BenchmarkVerifySVID(b *testing.B) {
	ctx := context.Background()
	m := newManager(b, ca.Options{})
	a, err := m.For(ctx, meshWith("default", builtin("ca-1", nil)))
	require.NoError(b, err)
	bundle := bundleOf(b, a)
	is := issue(b, a, benchReq)
	chain := []*x509.Certificate{is.leaf}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := certs.VerifySVID(chain, bundle, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}
