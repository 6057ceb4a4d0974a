package rest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func TestCRUDEveryKind(t *testing.T) {
	kinds := []struct {
		kind api.Kind
		path string
		doc  string
	}{
		{api.KindMesh, "/meshes/m1", meshYAML},
		{api.KindDataplane, "/meshes/default/dataplanes/gateway-instance-1", dataplaneYAML},
		{api.KindMeshGateway, "/meshes/default/meshgateways/edge-gateway", gatewayYAML},
		{api.KindMeshGatewayRoute, "/meshes/default/meshgatewayroutes/api-route", routeYAML},
		{api.KindSecret, "/meshes/default/secrets/cert", secretYAML},
	}
	formats := []struct {
		name        string
		contentType string
		encode      func(*testing.T, string) string
	}{
		{"json", "application/json", toJSON},
		{"yaml", "application/yaml", func(_ *testing.T, y string) string { return y }},
	}
	for _, k := range kinds {
		for _, f := range formats {
			t.Run(string(k.kind)+"/"+f.name, func(t *testing.T) {
				a := newAPI(t)
				put := func(doc string) response {
					return a.do(http.MethodPut, k.path, f.encode(t, doc), "Content-Type", f.contentType)
				}

				created := put(k.doc).mustStatus(t, http.StatusCreated)
				assert.Equal(t, `"1"`, created.header.Get("ETag"))
				assert.Equal(t, string(k.kind), created.json(t)["type"])

				// ?reveal=true: a Secret's data is redacted otherwise (redact_test.go).
				got := a.do(http.MethodGet, k.path+"?reveal=true", "").mustStatus(t, http.StatusOK)
				assert.Equal(t, "application/json", got.header.Get("Content-Type"))
				assert.Equal(t, `"1"`, got.header.Get("ETag"))
				body := got.json(t)
				assert.NotEmpty(t, body["creationTime"])
				assert.NotEmpty(t, body["modificationTime"])
				assertSameResource(t, k.doc, string(got.body))

				updated := put(k.doc+"labels: {team: edge}\n").mustStatus(t, http.StatusOK)
				assert.Equal(t, `"2"`, updated.header.Get("ETag"))
				assert.Equal(t, map[string]any{"team": "edge"}, updated.json(t)["labels"])

				collection := k.path[:strings.LastIndex(k.path, "/")]
				list := a.do(http.MethodGet, collection, "").mustStatus(t, http.StatusOK).json(t)
				assert.EqualValues(t, 1, list["total"])
				assert.Nil(t, list["next"])
				require.Len(t, list["items"], 1)

				a.do(http.MethodDelete, k.path, "").mustStatus(t, http.StatusOK)
				a.do(http.MethodGet, k.path, "").mustStatus(t, http.StatusNotFound)
				a.do(http.MethodDelete, k.path, "").mustStatus(t, http.StatusNotFound)
			})
		}
	}
}

// assertSameResource decodes both documents and compares what they describe.
func assertSameResource(t *testing.T, want, got string) {
	t.Helper()
	w, errs := api.Decode("want", []byte(want))
	require.Empty(t, errs)
	g, errs := api.Decode("got", []byte(got))
	require.Empty(t, errs, got)
	require.Len(t, w, 1)
	require.Len(t, g, 1)
	assert.Equal(t, w[0].GetMeta().Key(), g[0].GetMeta().Key())
	assert.Equal(t, w[0].GetMeta().Labels, g[0].GetMeta().Labels)
	ws, gs := specJSON(t, w[0]), specJSON(t, g[0])
	assert.JSONEq(t, ws, gs)
}

func specJSON(t *testing.T, o api.Object) string {
	t.Helper()
	b, err := api.Encode(o)
	require.NoError(t, err)
	return string(b)
}

func TestResponseFormats(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, "/meshes/default/meshgateways/edge-gateway", gatewayYAML).mustStatus(t, http.StatusCreated)
	cases := []struct {
		name    string
		path    string
		headers []string
		yaml    bool
	}{
		{"default json", "", nil, false},
		{"accept yaml", "", []string{"Accept", "application/yaml"}, true},
		{"accept x-yaml", "", []string{"Accept", "text/html, application/x-yaml;q=0.9"}, true},
		{"query yaml", "?format=yaml", nil, true},
		{"query json wins", "?format=json", []string{"Accept", "application/yaml"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(http.MethodGet, "/meshes/default/meshgateways/edge-gateway"+c.path, "", c.headers...).mustStatus(t, http.StatusOK)
			if c.yaml {
				assert.Equal(t, "application/yaml", r.header.Get("Content-Type"))
				assert.True(t, strings.HasPrefix(string(r.body), "type: MeshGateway\nmesh: default\nname: edge-gateway\ncreationTime: "), string(r.body))
			} else {
				assert.Equal(t, "application/json", r.header.Get("Content-Type"))
				assert.True(t, strings.HasPrefix(string(r.body), `{"type":"MeshGateway","mesh":"default","name":"edge-gateway","creationTime":`), string(r.body))
			}
			assertSameResource(t, gatewayYAML, string(r.body))
		})
	}
	e := a.do(http.MethodGet, "/meshes?format=xml", "").mustStatus(t, http.StatusBadRequest).apiError(t)
	assert.Equal(t, "format", e.Causes[0].Field)
}

// Every seed example goes through PUT and comes back from GET as the same resource, and the
// GET output (times included) can be PUT back unchanged.
func TestSeedRoundTrip(t *testing.T) {
	a := newAPI(t)
	objs, errs := api.LoadFiles([]string{"../../examples/gateway"})
	require.Empty(t, errs)
	require.NotEmpty(t, objs)
	for _, o := range objs {
		m := o.GetMeta()
		path := "/meshes/" + m.Mesh + "/" + strings.ToLower(string(m.Kind)) + "s/" + m.Name
		in := specJSON(t, o)
		a.do(http.MethodPut, path, in).mustStatus(t, http.StatusCreated)
		got := a.do(http.MethodGet, path, "").mustStatus(t, http.StatusOK)
		assertSameResource(t, in, string(got.body))

		again := a.do(http.MethodPut, path, string(got.body)).mustStatus(t, http.StatusOK)
		assert.Equal(t, got.header.Get("ETag"), again.header.Get("ETag"), "unchanged content keeps its version")
		yml := a.do(http.MethodGet, path+"?format=yaml", "").mustStatus(t, http.StatusOK)
		assertSameResource(t, in, string(yml.body))
	}
}

// The seed's files go in as the user wrote them, in either form, and come back equal.
func TestSeedFilesRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../v1alpha1/testdata/seed/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			objs, errs := api.Decode(file, raw)
			require.Empty(t, errs)
			require.Len(t, objs, 1)
			m := objs[0].GetMeta()
			path := "/meshes/" + m.Mesh + "/" + strings.ToLower(string(m.Kind)) + "s/" + m.Name
			a := newAPI(t)
			if info, _ := api.LookupKind(m.Kind); info.KubernetesOnly {
				// MeshGatewayInstance lives only in a cluster: the store and the API have no such type.
				a.do(http.MethodPut, path, string(raw), "Content-Type", "application/yaml").mustStatus(t, http.StatusNotFound)
				return
			}
			a.do(http.MethodPut, path, string(raw), "Content-Type", "application/yaml").mustStatus(t, http.StatusCreated)
			got := a.do(http.MethodGet, path, "", "Accept", "application/yaml").mustStatus(t, http.StatusOK)
			assertSameResource(t, string(raw), string(got.body))
		})
	}
}
