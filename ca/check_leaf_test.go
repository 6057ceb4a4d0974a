package ca

import (
	"crypto/x509"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

// checkLeaf is what stands between a locally signed leaf and a dataplane now that the leaf's
// signature is not verified a second time: each structural fault it exists for is refused.
func TestCheckLeafRefusesStructuralFaults(t *testing.T) {
	root := certstest.NewRoot(t, "mesh root")
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	uris, err := certs.Identity{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"version": {"v1"}}}.URIs()
	require.NoError(t, err)
	now := time.Now()
	params := certs.LeafParams{URIs: uris, PublicKey: key.Public(), NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)}
	want := leafWant{parent: root.Cert, uris: uris, key: key, notBefore: root.Cert.NotBefore, notAfter: root.Cert.NotAfter, now: now}
	require.NoError(t, checkLeaf(root.SignLeaf(t, params), want), "a correct leaf passes")

	otherKey, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	reordered := []*url.URL{uris[1], uris[0]}
	for name, tc := range map[string]struct {
		leaf   func() *x509.Certificate
		change func(*leafWant)
		msg    string
	}{
		"issued by another CA": {
			leaf: func() *x509.Certificate { return certstest.NewRoot(t, "another root").SignLeaf(t, params) },
			msg:  "not by the signing CA",
		},
		"issued by another key under the same name": {
			leaf: func() *x509.Certificate { return certstest.NewRoot(t, "mesh root").SignLeaf(t, params) },
			msg:  "authority key id",
		},
		"a CA certificate": {
			leaf: func() *x509.Certificate { return root.NewIntermediate(t, "intermediate", certstest.URIs(uris...)).Cert },
			msg:  "issued as a CA certificate",
		},
		"URI SANs in another order": {
			leaf: func() *x509.Certificate { p := params; p.URIs = reordered; return root.SignLeaf(t, p) },
			msg:  "URI SANs",
		},
		"a URI SAN missing": {
			leaf: func() *x509.Certificate { p := params; p.URIs = uris[:1]; return root.SignLeaf(t, p) },
			msg:  "URI SANs",
		},
		"another SPIFFE ID": {
			leaf: func() *x509.Certificate {
				p := params
				p.URIs = []*url.URL{{Scheme: "spiffe", Host: "default", Path: "/api"}, uris[1]}
				return root.SignLeaf(t, p)
			},
			msg: "URI SANs",
		},
		"another key": {
			leaf: func() *x509.Certificate { p := params; p.PublicKey = otherKey.Public(); return root.SignLeaf(t, p) },
			msg:  "certifies another key",
		},
		"outliving the chain": {
			leaf: func() *x509.Certificate {
				p := params
				p.NotAfter = root.Cert.NotAfter.Add(time.Hour)
				return root.SignLeaf(t, p)
			},
			msg: "after its chain",
		},
		"older than the chain": {
			leaf: func() *x509.Certificate {
				p := params
				p.NotBefore = root.Cert.NotBefore.Add(-time.Hour)
				return root.SignLeaf(t, p)
			},
			msg: "before its chain",
		},
		"expired": {
			leaf:   func() *x509.Certificate { return root.SignLeaf(t, params) },
			change: func(w *leafWant) { w.now = params.NotAfter.Add(time.Second) },
			msg:    "not valid now",
		},
		"not yet valid": {
			leaf:   func() *x509.Certificate { return root.SignLeaf(t, params) },
			change: func(w *leafWant) { w.now = params.NotBefore.Add(-time.Second) },
			msg:    "not valid now",
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := want
			if tc.change != nil {
				tc.change(&w)
			}
			require.ErrorContains(t, checkLeaf(tc.leaf(), w), tc.msg)
		})
	}
}
