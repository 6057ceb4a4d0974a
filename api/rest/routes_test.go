package rest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNotFoundAndMethods(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, "/meshes/default/secrets/cert", secretYAML).mustStatus(t, http.StatusCreated)
	cases := []struct {
		name, method, path string
		want               int
		details            string
	}{
		{"unknown kind", http.MethodGet, "/meshes/default/widgets", http.StatusNotFound, `unknown resource type "widgets"`},
		{"unknown kind item", http.MethodGet, "/meshes/default/widgets/x", http.StatusNotFound, `unknown resource type "widgets"`},
		{"unknown top kind", http.MethodGet, "/widgets", http.StatusNotFound, `unknown resource type`},
		{"unknown mesh list", http.MethodGet, "/meshes/nope/secrets", http.StatusNotFound, `mesh "nope" not found`},
		{"unknown mesh item", http.MethodGet, "/meshes/nope/secrets/cert", http.StatusNotFound, `mesh "nope" not found`},
		{"unknown name", http.MethodGet, "/meshes/default/secrets/nope", http.StatusNotFound, `Secret default/nope not found`},
		{"unknown mesh", http.MethodGet, "/meshes/nope", http.StatusNotFound, `Mesh nope not found`},
		{"mesh-scoped kind at top", http.MethodGet, "/secrets/cert", http.StatusNotFound, `use /meshes/{mesh}/secrets/cert`},
		{"global kind in mesh", http.MethodGet, "/meshes/default/meshes", http.StatusNotFound, `belong to no mesh`},
		{"no endpoint", http.MethodGet, "/a/b/c/d/e/f", http.StatusNotFound, `no such endpoint`},
		{"post to item", http.MethodPost, "/meshes/default/secrets/cert", http.StatusMethodNotAllowed, "GET, HEAD, PUT, DELETE"},
		{"put to list", http.MethodPut, "/meshes/default/secrets", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"get apply", http.MethodGet, "/apply", http.StatusMethodNotAllowed, "POST"},
		{"xds of missing dataplane", http.MethodGet, "/meshes/default/dataplanes/nope/xds", http.StatusNotImplemented, "xds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(c.method, c.path, "").mustStatus(t, c.want)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Contains(t, r.apiError(t).Details, c.details)
			if c.want == http.StatusMethodNotAllowed {
				assert.Equal(t, c.details, r.header.Get("Allow"))
			}
		})
	}
}

func TestIndex(t *testing.T) {
	a := newAPI(t)
	body := a.do(http.MethodGet, "/", "").mustStatus(t, http.StatusOK).json(t)
	assert.Equal(t, "meshgate", body["tagline"])
	assert.Contains(t, body["resources"], map[string]any{"type": "MeshGatewayRoute", "path": "/meshes/{mesh}/meshgatewayroutes"})
	assert.Contains(t, body["resources"], map[string]any{"type": "Mesh", "path": "/meshes", "global": true})
}

func TestAdminToken(t *testing.T) {
	a := newAPI(t, func(o *Options) { o.AdminToken = "s3cret" })
	cases := []struct {
		name   string
		header []string
		want   int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"wrong", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"prefix of the token", []string{"Authorization", "Bearer s3cre"}, http.StatusUnauthorized},
		{"not bearer", []string{"Authorization", "Basic czNjcmV0"}, http.StatusUnauthorized},
		{"good", []string{"Authorization", "Bearer s3cret"}, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(http.MethodGet, "/meshes", "", c.header...).mustStatus(t, c.want)
			if c.want == http.StatusUnauthorized {
				assert.Equal(t, "Unauthorized", r.apiError(t).Title)
				assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
	a.do(http.MethodPut, "/meshes/m1", meshYAML).mustStatus(t, http.StatusUnauthorized)
	assert.Empty(t, a.snapshot())
}
