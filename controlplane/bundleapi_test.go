package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// newMeshEndpoints serves the bundle and CA status endpoints of a control plane whose
// reconciler has not run yet; rebuild runs it.
func newMeshEndpoints(t *testing.T) (cp *ControlPlane, get func(path string) (int, http.Header, string)) {
	t.Helper()
	st := openTestStore(t, t.TempDir())
	ids := newTestIdentities(t, st)
	cp = &ControlPlane{log: quietLogger(), store: st, rec: &reconciler{store: st, ids: ids, log: quietLogger()}}
	rest := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(cp.withCAAPI(cp.withBundleAPI(rest)))
	t.Cleanup(srv.Close)
	get = func(path string) (int, http.Header, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(body)
	}
	return cp, get
}

func putMesh(t *testing.T, st store.Store, doc string) {
	t.Helper()
	objs, errs := api.Decode("test", []byte(doc))
	require.Empty(t, errs)
	spec, err := api.Encode(objs[0])
	require.NoError(t, err)
	_, err = st.Apply(context.Background(), store.ApplyRequest{Puts: []store.Put{{
		Key: store.Key{Kind: string(api.KindMesh), Name: objs[0].GetMeta().Name}, Spec: spec, ExpectedVersion: 0}}})
	require.NoError(t, err)
}

const mtlsMeshDoc = `type: Mesh
name: %s
mtls:
  enabledBackend: ca-1
  backends:
  - name: ca-1
    type: builtin
`

// A mesh that exists in the store is never reported missing: before the first build, and
// between its creation and the rebuild that follows, its bundle and CA status answer 503 with
// Retry-After, which a federation client retries, instead of 404, which makes it drop the
// mesh. 404 is for meshes the store does not have, and for meshes without mTLS.
func TestBundleEndpointDuringStartup(t *testing.T) {
	cp, get := newMeshEndpoints(t)
	ctx := context.Background()
	putMesh(t, cp.store, fmt.Sprintf(mtlsMeshDoc, "secure"))

	for _, path := range []string{"/meshes/secure/bundle", "/meshes/secure/ca", "/meshes/default/bundle", "/meshes/nope/bundle"} {
		code, header, body := get(path)
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s before the first build: %s", path, body)
		assert.Equal(t, meshRetryAfter, header.Get("Retry-After"), path)
	}

	require.NoError(t, cp.rec.rebuild(ctx))
	code, _, body := get("/meshes/secure/bundle")
	require.Equal(t, http.StatusOK, code, body)
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &jwks))
	assert.Len(t, jwks.Keys, 1)
	code, _, body = get("/meshes/secure/ca")
	assert.Equal(t, http.StatusOK, code, body)

	// Created after the last build: in the store, not in the model.
	putMesh(t, cp.store, fmt.Sprintf(mtlsMeshDoc, "late"))
	putMesh(t, cp.store, "type: Mesh\nname: plain\n")
	for _, path := range []string{"/meshes/late/bundle", "/meshes/late/ca"} {
		code, header, body := get(path)
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s: %s", path, body)
		assert.Equal(t, meshRetryAfter, header.Get("Retry-After"), path)
		assert.Contains(t, body, "not built yet")
	}
	for path, want := range map[string]string{
		"/meshes/nope/bundle":  "mesh nope not found",
		"/meshes/nope/ca":      "mesh nope not found",
		"/meshes/plain/bundle": "mesh plain has no mTLS, hence no trust bundle",
		"/meshes/plain/ca":     "mesh plain has no mTLS, hence no CA",
		// Implicit: in every model, in no store.
		"/meshes/default/bundle": "mesh default has no mTLS",
	} {
		code, header, body := get(path)
		assert.Equal(t, http.StatusNotFound, code, "%s: %s", path, body)
		assert.Empty(t, header.Get("Retry-After"), path)
		assert.Contains(t, body, want, path)
	}

	require.NoError(t, cp.rec.rebuild(ctx))
	code, _, body = get("/meshes/late/bundle")
	assert.Equal(t, http.StatusOK, code, body)
	code, _, _ = get("/meshes/default")
	assert.Equal(t, http.StatusTeapot, code, "other paths go to the resource API")
}
