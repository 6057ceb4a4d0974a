package stepca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/keyutil"
	"go.step.sm/crypto/x509util"
)

func TestPrepareBuildsCSRWithTemplateNames(t *testing.T) {
	key, err := keyutil.GenerateSigner("EC", "P-256", 0)
	require.NoError(t, err)
	id, _ := url.Parse("spiffe://default/web")
	tmpl, csr, err := SignRequest{
		Template: &x509.Certificate{Subject: pkix.Name{CommonName: "web"}, URIs: []*url.URL{id}, DNSNames: []string{"web.mesh"}},
		Signer:   key,
	}.prepare()
	require.NoError(t, err)
	require.NoError(t, csr.CheckSignature())
	assert.Equal(t, "web", csr.Subject.CommonName)
	assert.Equal(t, []string{"web.mesh"}, csr.DNSNames)
	require.Len(t, csr.URIs, 1)
	assert.Equal(t, id.String(), csr.URIs[0].String())
	assert.Equal(t, "web", tmpl.Subject.CommonName)
}

func TestPrepareTakesNamesFromCSR(t *testing.T) {
	key, err := keyutil.GenerateSigner("EC", "P-256", 0)
	require.NoError(t, err)
	csr, err := x509util.CreateCertificateRequest("", []string{"spiffe://default/web"}, key)
	require.NoError(t, err)
	tmpl, got, err := SignRequest{CSR: csr}.prepare()
	require.NoError(t, err)
	assert.Same(t, csr, got)
	assert.Equal(t, "spiffe://default/web", tmpl.URIs[0].String())
}

func TestPrepareErrors(t *testing.T) {
	key, err := keyutil.GenerateSigner("EC", "P-256", 0)
	require.NoError(t, err)
	csr, err := x509util.CreateCertificateRequest("", []string{"spiffe://default/web"}, key)
	require.NoError(t, err)
	id, _ := url.Parse("spiffe://default/web")
	withID := &x509.Certificate{URIs: []*url.URL{id}}
	for _, tc := range []struct {
		name string
		req  SignRequest
		want string
	}{
		{"no key", SignRequest{Template: withID}, "Signer or CSR is required"},
		{"both", SignRequest{Template: withID, Signer: key, CSR: csr}, "not both"},
		{"no template", SignRequest{Signer: key}, "Template is required"},
		{"no SANs", SignRequest{Template: &x509.Certificate{}, Signer: key}, "no SANs"},
		{"negative lifetime", SignRequest{Template: withID, Signer: key, Lifetime: -time.Hour}, "negative lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.req.prepare()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
