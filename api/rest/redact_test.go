package rest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest/wire"
	"github.com/meshgate/meshgate/store"
)

const secretPath = "/meshes/default/secrets/cert"

// Reads return a Secret's data as "<redacted>", in every shape (one resource, a mesh's list,
// the list across meshes, YAML, the echo of a PUT), unless the request says ?reveal=true.
func TestSecretDataRedactedUnlessRevealed(t *testing.T) {
	a := newAPI(t)
	created := a.do(http.MethodPut, secretPath, secretYAML).mustStatus(t, http.StatusCreated)
	assert.NotContains(t, string(created.body), "aGVsbG8=", "the echo of a PUT is a read too")

	redacted := []response{
		a.do(http.MethodGet, secretPath, ""),
		a.do(http.MethodGet, secretPath+"?reveal=false", ""),
		a.do(http.MethodGet, secretPath+"?format=yaml", ""),
		a.do(http.MethodGet, "/meshes/default/secrets", ""),
		a.do(http.MethodGet, "/secrets", ""),
	}
	for _, r := range redacted {
		r.mustStatus(t, http.StatusOK)
		assert.NotContains(t, string(r.body), "aGVsbG8=")
		assert.Contains(t, string(r.body), wire.RedactedData, "the field keeps its place: %s", r.body)
		assert.Empty(t, r.header.Get("Cache-Control"))
	}
	one := redacted[0]
	assert.Equal(t, wire.RedactedData, one.json(t)["data"])
	assert.Contains(t, string(one.body), `"data":"<redacted>"`, "written as is, not \\u003c-escaped")
	assert.Equal(t, `"1"`, one.header.Get("ETag"))

	revealed := []response{
		a.do(http.MethodGet, secretPath+"?reveal=true", ""),
		a.do(http.MethodGet, secretPath+"?reveal=1&format=yaml", ""),
		a.do(http.MethodGet, "/meshes/default/secrets?reveal=true", ""),
		a.do(http.MethodGet, "/secrets?reveal=true", ""),
	}
	for _, r := range revealed {
		r.mustStatus(t, http.StatusOK)
		assert.Contains(t, string(r.body), "aGVsbG8=")
		assert.NotContains(t, string(r.body), wire.RedactedData)
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	}
	assert.Equal(t, `"1"`, revealed[0].header.Get("ETag"), "one version, one ETag, whatever the representation")

	e := a.do(http.MethodGet, secretPath+"?reveal=please", "").mustStatus(t, http.StatusBadRequest).apiError(t)
	require.Len(t, e.Causes, 1)
	assert.Equal(t, "reveal", e.Causes[0].Field)

	// Other kinds have nothing to redact and are untouched.
	a.do(http.MethodPut, "/meshes/default/meshgateways/edge-gateway", gatewayYAML).mustStatus(t, http.StatusCreated)
	gw := a.do(http.MethodGet, "/meshes/default/meshgateways/edge-gateway", "").mustStatus(t, http.StatusOK)
	assert.NotContains(t, string(gw.body), "data")
	assertSameResource(t, gatewayYAML, string(gw.body))
}

// A redacted read sent back (edit the labels, PUT with If-Match) is refused with a 400 that
// says why, and nothing is stored; the same edit on a revealed read goes through, and If-Match
// still guards it.
func TestRedactedSecretIsNotWrittenBack(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, secretPath, secretYAML).mustStatus(t, http.StatusCreated)

	read := a.do(http.MethodGet, secretPath, "").mustStatus(t, http.StatusOK)
	edited := strings.Replace(string(read.body), `"data"`, `"labels":{"team":"edge"},"data"`, 1)
	for _, req := range []struct{ method, path, body string }{
		{http.MethodPut, secretPath, edited},
		{http.MethodPost, "/apply", edited},
	} {
		e := a.do(req.method, req.path, req.body, "If-Match", read.header.Get("ETag")).
			mustStatus(t, http.StatusBadRequest).apiError(t)
		require.Len(t, e.Causes, 1, "%s %s", req.method, req.path)
		assert.Equal(t, "data", e.Causes[0].Field)
		assert.Equal(t, "Secret default/cert", e.Causes[0].Resource)
		assert.Contains(t, e.Causes[0].Message, `"<redacted>", the placeholder`)
		assert.Contains(t, e.Causes[0].Message, "?reveal=true")
	}
	rec, err := a.store.Get(context.Background(), store.Key{Kind: "Secret", Mesh: "default", Name: "cert"})
	require.NoError(t, err)
	assert.EqualValues(t, 1, rec.Version)
	assert.Contains(t, string(rec.Spec), "aGVsbG8=")

	full := a.do(http.MethodGet, secretPath+"?reveal=true", "").mustStatus(t, http.StatusOK)
	edited = strings.Replace(string(full.body), `"data"`, `"labels":{"team":"edge"},"data"`, 1)
	a.do(http.MethodPut, secretPath, edited, "If-Match", full.header.Get("ETag")).mustStatus(t, http.StatusOK)
	a.do(http.MethodPut, secretPath, edited, "If-Match", full.header.Get("ETag")).mustStatus(t, http.StatusPreconditionFailed)
	after := a.do(http.MethodGet, secretPath+"?reveal=true", "").mustStatus(t, http.StatusOK).json(t)
	assert.Equal(t, "aGVsbG8=", after["data"])
	assert.Equal(t, map[string]any{"team": "edge"}, after["labels"])
}

// Asking for the data does not get around the admin token.
func TestRevealNeedsTheAdminToken(t *testing.T) {
	a := newAPI(t, func(o *Options) { o.AdminToken = "s3cret" })
	a.do(http.MethodPut, secretPath, secretYAML, "Authorization", "Bearer s3cret").mustStatus(t, http.StatusCreated)
	r := a.do(http.MethodGet, secretPath+"?reveal=true", "").mustStatus(t, http.StatusUnauthorized)
	assert.NotContains(t, string(r.body), "aGVsbG8=")
	r = a.do(http.MethodGet, secretPath+"?reveal=true", "", "Authorization", "Bearer s3cret").mustStatus(t, http.StatusOK)
	assert.Contains(t, string(r.body), "aGVsbG8=")
}
