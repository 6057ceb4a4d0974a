package certs_test

import (
	"crypto/x509"
	"net/url"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func bundleOf(t *testing.T, mesh string, roots ...*x509.Certificate) *x509bundle.Bundle {
	t.Helper()
	b, err := certs.NewBundle(mesh, roots...)
	require.NoError(t, err)
	return b
}

func TestVerifySVIDSingleURI(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	leaf := root.SignLeaf(t, certs.LeafParams{URIs: mustURIs(t, certs.Identity{Mesh: "default", Services: []string{"web"}})})
	b := bundleOf(t, "default", root.Cert)

	ids, err := certs.VerifySVID([]*x509.Certificate{leaf}, b, time.Time{})
	require.NoError(t, err)
	require.Len(t, ids, 1)
	assert.Equal(t, "spiffe://default/web", ids[0].String())
	// A single-URI leaf is a strict X509-SVID: go-spiffe verifies it unaided.
	_, _, err = x509svid.Verify([]*x509.Certificate{leaf}, b)
	require.NoError(t, err)
	certstest.RequireOpenSSLVerify(t, []*x509.Certificate{root.Cert}, nil, leaf)
}

func TestVerifySVIDKumaLeafWithIntermediate(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	inter := root.NewIntermediate(t, "intermediate")
	id := certs.Identity{Mesh: "default", Services: []string{"web", "api"}, Tags: map[string][]string{"kuma.io/service": {"web", "api"}, "version": {"v1"}}}
	leaf := inter.SignLeaf(t, certs.LeafParams{URIs: mustURIs(t, id)})
	chain := []*x509.Certificate{leaf, inter.Cert}

	ids, err := certs.VerifySVID(chain, bundleOf(t, "default", root.Cert), time.Time{})
	require.NoError(t, err)
	require.Len(t, ids, 2)
	assert.Equal(t, "spiffe://default/web", ids[0].String())
	assert.Equal(t, "spiffe://default/api", ids[1].String())
	certstest.RequireOpenSSLVerify(t, []*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, leaf)

	// The reason VerifySVID exists: go-spiffe alone refuses Kuma's multi-URI leaves.
	_, _, err = x509svid.Verify(chain, bundleOf(t, "default", root.Cert))
	require.ErrorContains(t, err, "more than one URI SAN")
}

func TestVerifySVIDFailures(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	other := certstest.NewRoot(t, "other")
	uris := mustURIs(t, certs.Identity{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"version": {"v1"}}})
	leaf := root.SignLeaf(t, certs.LeafParams{URIs: uris})

	_, err := certs.VerifySVID(nil, bundleOf(t, "default", root.Cert), time.Time{})
	require.ErrorContains(t, err, "empty chain")

	_, err = certs.VerifySVID([]*x509.Certificate{leaf}, bundleOf(t, "default", other.Cert), time.Time{})
	require.ErrorContains(t, err, "unknown authority")
	require.Error(t, certstest.OpenSSLVerify(t, []*x509.Certificate{other.Cert}, nil, leaf))

	_, err = certs.VerifySVID([]*x509.Certificate{leaf}, bundleOf(t, "other-mesh", root.Cert), time.Time{})
	require.ErrorContains(t, err, `no X.509 bundle found for trust domain: "default"`)

	_, err = certs.VerifySVID([]*x509.Certificate{leaf}, bundleOf(t, "default", root.Cert), time.Now().Add(2*time.Hour))
	require.ErrorContains(t, err, "expired")

	kumaOnly := root.SignLeaf(t, certs.LeafParams{URIs: uris[1:]})
	_, err = certs.VerifySVID([]*x509.Certificate{kumaOnly}, bundleOf(t, "default", root.Cert), time.Time{})
	require.ErrorContains(t, err, "no SPIFFE ID URI SAN")

	a, _ := url.Parse("spiffe://default/web")
	b, _ := url.Parse("spiffe://other/web")
	mixed := root.SignLeaf(t, certs.LeafParams{URIs: []*url.URL{a, b}})
	_, err = certs.VerifySVID([]*x509.Certificate{mixed}, bundleOf(t, "default", root.Cert), time.Time{})
	require.ErrorContains(t, err, "different trust domains")

	// A CA certificate is never a workload identity, even with a SPIFFE URI.
	caLeaf := root.NewIntermediate(t, "ca-as-leaf", certstest.URIs(uris[:1]...))
	_, err = certs.VerifySVID([]*x509.Certificate{caLeaf.Cert}, bundleOf(t, "default", root.Cert), time.Time{})
	require.ErrorContains(t, err, "CA flag")
}

// A URI name constraint that admits the SPIFFE ID but not the kuma:// URIs must fail: the
// projected copy alone would miss it, so VerifySVID re-checks the real leaf.
func TestVerifySVIDURINameConstraints(t *testing.T) {
	root := certstest.NewRoot(t, "root")
	inter := root.NewIntermediate(t, "constrained", certstest.PermittedURIDomains("default"))
	b := bundleOf(t, "default", root.Cert)

	spiffeOnly := inter.SignLeaf(t, certs.LeafParams{URIs: mustURIs(t, certs.Identity{Mesh: "default", Services: []string{"web", "api"}})})
	_, err := certs.VerifySVID([]*x509.Certificate{spiffeOnly, inter.Cert}, b, time.Time{})
	require.NoError(t, err)

	withTags := inter.SignLeaf(t, certs.LeafParams{URIs: mustURIs(t, certs.Identity{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"version": {"v1"}}})})
	_, err = certs.VerifySVID([]*x509.Certificate{withTags, inter.Cert}, b, time.Time{})
	require.ErrorContains(t, err, "URI name constraints")
	require.Error(t, certstest.OpenSSLVerify(t, []*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, withTags))
}
