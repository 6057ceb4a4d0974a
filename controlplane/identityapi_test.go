package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/certs"
)

const identityMeshesYAML = `
type: Mesh
name: alpha
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: beta
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: plain
---
type: Dataplane
mesh: alpha
name: x
networking:
  address: 127.0.0.1
  inbound:
  - {port: 8080, tags: {kuma.io/service: web, version: v1}}
  - {port: 8081, tags: {kuma.io/service: admin}}
---
type: Dataplane
mesh: alpha
name: y
networking:
  address: 127.0.0.2
  inbound: [{port: 8080, tags: {kuma.io/service: api}}]
---
type: Dataplane
mesh: plain
name: p
networking:
  address: 127.0.0.3
  inbound: [{port: 8080, tags: {kuma.io/service: p}}]
`

// newIdentityEndpoint serves the identity endpoint of a built control plane on a real
// loopback socket, and returns it with a token issuer.
func newIdentityEndpoint(t *testing.T) (*ControlPlane, *httptest.Server) {
	t.Helper()
	st := openTestStore(t, t.TempDir())
	ids := newTestIdentities(t, st)
	cp := &ControlPlane{log: quietLogger(), store: st, rec: &reconciler{store: st, sink: nullSink{}, ids: ids, log: quietLogger()},
		tokens: tokens.New(st, tokens.Options{Logger: quietLogger(), Meshes: meshLookup(st)})}
	apply(t, st, identityMeshesYAML)
	require.NoError(t, cp.rec.rebuild(context.Background()))
	rest := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(cp.withIdentityAPI(rest))
	t.Cleanup(srv.Close)
	return cp, srv
}

func identityToken(t *testing.T, cp *ControlPlane, mesh, name string) string {
	t.Helper()
	tok, err := cp.tokens.Issue(context.Background(), tokens.IssueRequest{Mesh: mesh, Name: name})
	require.NoError(t, err)
	return tok
}

func getIdentity(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+client.DataplaneIdentityPath, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// A dataplane's token buys its own identity, and only its own: an X509-SVID with one URI SAN
// (its primary service) that verifies against its mesh's bundle, with the other mTLS mesh's
// bundle beside it; the same certificate until its renewal time.
func TestIdentityEndpointServesTheTokensDataplane(t *testing.T) {
	cp, srv := newIdentityEndpoint(t)
	fetch := func(token string) client.DataplaneIdentity {
		t.Helper()
		code, body := getIdentity(t, srv.URL, token)
		require.Equal(t, http.StatusOK, code, body)
		var id client.DataplaneIdentity
		require.NoError(t, json.Unmarshal([]byte(body), &id))
		return id
	}
	x := fetch(identityToken(t, cp, "alpha", "x"))
	assert.Equal(t, "alpha", x.Mesh)
	assert.Equal(t, "x", x.Name)
	// The primary SPIFFE ID, as in the leaf Envoy gets: the first of its services, sorted.
	assert.Equal(t, "spiffe://alpha/admin", x.SPIFFEID)
	chain, err := certs.ParseCertificates([]byte(x.CertificateChain))
	require.NoError(t, err)
	require.Len(t, chain[0].URIs, 1, "an X509-SVID has exactly one URI SAN")
	assert.Equal(t, "spiffe://alpha/admin", chain[0].URIs[0].String())
	assert.Contains(t, x.PrivateKey, "PRIVATE KEY")
	assert.WithinDuration(t, chain[0].NotAfter, x.NotAfter, time.Second)
	assert.True(t, x.RenewAt.After(time.Now()) && x.RenewAt.Before(x.NotAfter), "renewAt %s within the life ending %s", x.RenewAt, x.NotAfter)
	require.ElementsMatch(t, []string{"alpha", "beta"}, keysOf(x.Bundles), "own mesh and the other mTLS mesh; not plain")
	alpha, err := certs.ParseBundle("alpha", []byte(x.Bundles["alpha"]))
	require.NoError(t, err)
	ids, err := certs.VerifySVID(chain, alpha, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "spiffe://alpha/admin", ids[0].String())
	beta, err := certs.ParseBundle("beta", []byte(x.Bundles["beta"]))
	require.NoError(t, err)
	_, err = certs.VerifySVID(chain, beta, time.Time{})
	assert.Error(t, err, "alpha's SVID must not verify against beta's roots")

	y := fetch(identityToken(t, cp, "alpha", "y"))
	assert.Equal(t, "spiffe://alpha/api", y.SPIFFEID)
	assert.NotEqual(t, x.PrivateKey, y.PrivateKey)

	again := fetch(identityToken(t, cp, "alpha", "x"))
	assert.Equal(t, x.CertificateChain, again.CertificateChain, "the same SVID until its renewal time")
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every refusal says why, with the status a client acts on.
func TestIdentityEndpointRefusals(t *testing.T) {
	cp, srv := newIdentityEndpoint(t)
	xToken := identityToken(t, cp, "alpha", "x")
	gone := identityToken(t, cp, "alpha", "ghost")
	plain := identityToken(t, cp, "plain", "p")
	// A token signed by another control plane's key for the same dataplane.
	other, _ := newIdentityEndpoint(t)
	forged := identityToken(t, other, "alpha", "x")

	cases := []struct {
		name, token string
		code        int
		want        string
	}{
		{"no token", "", http.StatusUnauthorized, "no dataplane token"},
		{"garbage", "not-a-token", http.StatusUnauthorized, "the token names no dataplane"},
		{"forged", forged, http.StatusUnauthorized, "invalid dataplane token"},
		{"truncated", xToken[:len(xToken)-4], http.StatusUnauthorized, "invalid dataplane token"},
		{"unknown dataplane", gone, http.StatusNotFound, "dataplane alpha/ghost not found"},
		{"mesh without mTLS", plain, http.StatusConflict, "mesh plain has no mTLS"},
	}
	for _, c := range cases {
		code, body := getIdentity(t, srv.URL, c.token)
		assert.Equal(t, c.code, code, "%s: %s", c.name, body)
		assert.Contains(t, body, c.want, c.name)
		assert.NotContains(t, body, "PRIVATE KEY", c.name)
	}

	// x's token naming y: refused, not served y's identity.
	req, err := http.NewRequest(http.MethodGet, srv.URL+client.DataplaneIdentityPath+"?mesh=alpha&name=y", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+xToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, string(body))
	assert.Contains(t, string(body), "another dataplane")
	assert.NotContains(t, string(body), "PRIVATE KEY")

	resp, err = http.Post(srv.URL+client.DataplaneIdentityPath, "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp, err = http.Get(srv.URL + "/meshes")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode, "other paths go to the resource API")
}

// The private key never crosses plain text beyond this machine: a plain-HTTP request from
// another host is refused before the token is even read (the plain API listens on loopback
// only, so such a request can only come through a proxy or a misconfiguration).
func TestIdentityEndpointRefusesPlainTextBeyondLoopback(t *testing.T) {
	cp, srv := newIdentityEndpoint(t)
	token := identityToken(t, cp, "alpha", "x")
	h := cp.withIdentityAPI(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, client.DataplaneIdentityPath, nil)
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "served only over HTTPS")
	assert.NotContains(t, rec.Body.String(), "PRIVATE KEY")

	// The same request over loopback is served (the real socket of srv).
	code, body := getIdentity(t, srv.URL, token)
	assert.Equal(t, http.StatusOK, code, body)

	// And over TLS from anywhere.
	tlsSrv := httptest.NewTLSServer(h)
	t.Cleanup(tlsSrv.Close)
	req, err := http.NewRequest(http.MethodGet, tlsSrv.URL+client.DataplaneIdentityPath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := tlsSrv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
