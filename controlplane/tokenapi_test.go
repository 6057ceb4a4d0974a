package controlplane

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// The token endpoints answer bad requests with Kuma's error body and leave every other path
// to the resource API.
func TestTokenAPI(t *testing.T) {
	st, err := sqlite.OpenDir(context.Background(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cp := &ControlPlane{log: quietLogger(), tokens: tokens.New(st, tokens.Options{Logger: quietLogger()})}
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(cp.withTokenAPI(next))
	t.Cleanup(srv.Close)
	do := func(method, path, contentType, body string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(out)
	}
	const issue, revoke = "/tokens/dataplane", "/tokens/dataplane/revoke"
	cases := []struct {
		method, path, ct, body string
		code                   int
		want                   string
	}{
		{"POST", issue, "application/json", `{"mesh":"default","name":"gw","validFor":"24h"}`, 200, "eyJ"},
		{"POST", issue, "", `{"mesh":"default","name":"gw"}`, 200, "eyJ"},
		{"GET", issue, "", "", 405, "allowed: POST"},
		{"POST", issue, "application/yaml", "mesh: default\nname: gw\n", 200, "eyJ"},
		{"POST", issue, "application/x-www-form-urlencoded", `{"mesh":"default","name":"gw"}`, 200, "eyJ"},
		{"POST", issue, "image/png", `{"mesh":"default","name":"gw"}`, 415, "send application/json or application/yaml"},
		{"POST", issue, "application/json", `{"mesh":"default"`, 400, "request body"},
		{"POST", issue, "application/json", `{"mesh":"default","name":"gw","tags":{}}`, 400, `unknown field \"tags\"`},
		{"POST", issue, "application/json", `{"mesh":"default","name":"gw","validFor":"forever"}`, 400, `validFor \"forever\"`},
		{"POST", issue, "application/json", `{"mesh":"default","name":"gw","validFor":"200000h"}`, 400, "out of range"},
		{"POST", issue, "application/json", `{"mesh":"a.b","name":"gw"}`, 400, "no '.'"},
		{"POST", issue, "application/json", `{"name":"gw"}`, 400, "mesh is empty"},
		{"POST", revoke, "application/json", `{"mesh":"default","id":"abc"}`, 204, ""},
		{"POST", revoke, "application/json", `{"mesh":"default"}`, 400, "token id"},
		{"GET", "/meshes", "", "", http.StatusTeapot, ""},
		{"POST", "/tokens", "", "", http.StatusTeapot, ""},
	}
	for _, c := range cases {
		code, out := do(c.method, c.path, c.ct, c.body)
		assert.Equal(t, c.code, code, "%s %s %s: %s", c.method, c.path, c.body, out)
		assert.Contains(t, out, c.want, "%s %s %s", c.method, c.path, c.body)
	}
}

// Tokens are issued and revoked only for meshes that exist: 404, naming the mesh.
func TestTokenAPIRefusesUnknownMeshes(t *testing.T) {
	st, err := sqlite.OpenDir(context.Background(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	apply(t, st, keysMeshYAML)
	cp := &ControlPlane{log: quietLogger(), tokens: tokens.New(st, tokens.Options{Logger: quietLogger(), Meshes: meshLookup(st)})}
	srv := httptest.NewServer(cp.withTokenAPI(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	post := func(path, body string) (int, string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(out)
	}
	for path, body := range map[string]string{
		"/tokens/dataplane":        `{"mesh":"nope","name":"gw"}`,
		"/tokens/dataplane/revoke": `{"mesh":"nope","id":"abc"}`,
	} {
		code, out := post(path, body)
		assert.Equal(t, http.StatusNotFound, code, "%s: %s", path, out)
		assert.Contains(t, out, `mesh \"nope\" does not exist`, path)
	}
	code, out := post("/tokens/dataplane", `{"mesh":"payments","name":"gw"}`)
	assert.Equal(t, http.StatusOK, code, out)
	code, out = post("/tokens/dataplane", `{"mesh":"default","name":"gw"}`)
	assert.Equal(t, http.StatusOK, code, "the default mesh exists without a resource: %s", out)
}

// unreachableStates answers every state read as a database that is down.
type unreachableStates struct{ tokens.StateStore }

func (unreachableStates) GetState(context.Context, string) ([]byte, int64, error) {
	return nil, 0, fmt.Errorf("connection refused: %w", store.ErrUnavailable)
}

// While the store is down the token endpoints say so, as the resource API does: 503 with a
// Retry-After, not a 500 that reads as a crash.
func TestTokenAPIStoreUnavailable(t *testing.T) {
	st, err := sqlite.OpenDir(context.Background(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cp := &ControlPlane{log: quietLogger(), tokens: tokens.New(unreachableStates{st}, tokens.Options{Logger: quietLogger()})}
	srv := httptest.NewServer(cp.withTokenAPI(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/tokens/dataplane", "application/json", strings.NewReader(`{"mesh":"default","name":"gw"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assert.Contains(t, string(body), "the store is unreachable")
}
