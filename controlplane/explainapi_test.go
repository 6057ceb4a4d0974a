package controlplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExplainEndpointRefusals: the explain endpoint needs the admin token (it reveals
// configuration), a port, GET, and a dataplane this control plane serves; global serves none;
// every other path reaches the resource API behind it. The answers themselves are tested end
// to end (test/multizone_explain_e2e_test.go).
func TestExplainEndpointRefusals(t *testing.T) {
	cp := &ControlPlane{log: quietLogger(), rec: &reconciler{log: quietLogger()}, mode: ModeZone}
	cp.cfg.AdminToken = "secret"
	rest := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(cp.withExplainAPI(rest))
	t.Cleanup(srv.Close)
	call := func(method, path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	const path = "/meshes/default/dataplanes/gateway-1/explain"

	code, _ := call(http.MethodGet, path+"?port=8080", "")
	require.Equal(t, http.StatusUnauthorized, code, "no admin token")
	code, _ = call(http.MethodGet, path+"?port=8080", "wrong")
	require.Equal(t, http.StatusUnauthorized, code, "a wrong admin token")
	code, body := call(http.MethodPost, path+"?port=8080", "secret")
	require.Equal(t, http.StatusMethodNotAllowed, code, body)
	for _, q := range []string{"", "?port=0", "?port=http", "?port=8080&tls=maybe", "?port=8080&header=novalue"} {
		code, body = call(http.MethodGet, path+q, "secret")
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", q, body)
	}
	code, body = call(http.MethodGet, path+"?port=8080", "secret")
	require.Equal(t, http.StatusNotFound, code, body)
	require.Contains(t, body, "dataplane default/gateway-1: not found among the dataplanes this control plane serves")

	code, _ = call(http.MethodGet, "/meshes/default/dataplanes/gateway-1", "")
	require.Equal(t, http.StatusTeapot, code, "other paths go to the API behind")

	cp.mode = ModeGlobal
	code, body = call(http.MethodGet, path+"?port=8080", "secret")
	require.Equal(t, http.StatusConflict, code, body)
	require.True(t, strings.Contains(body, "the global control plane serves no dataplane: ask its zone's control plane"), body)
}
