package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest/wire"
)

func secretNamed(mesh, name string) string {
	return fmt.Sprintf("type: Secret\nmesh: %s\nname: %s\ndata: aGk=\n", mesh, name)
}

func TestPagination(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, "/meshes/m1", meshYAML).mustStatus(t, http.StatusCreated)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("s%d", i)
		want = append(want, name)
		a.do(http.MethodPut, "/meshes/default/secrets/"+name, secretNamed("default", name)).mustStatus(t, http.StatusCreated)
	}
	a.do(http.MethodPut, "/meshes/m1/secrets/other", secretNamed("m1", "other")).mustStatus(t, http.StatusCreated)

	var got []string
	var pages int
	next := a.srv.URL + "/meshes/default/secrets?size=2"
	for next != "" {
		u, err := url.Parse(next)
		require.NoError(t, err)
		require.Equal(t, strings.TrimPrefix(a.srv.URL, "http://"), u.Host, "next is absolute, on the address the client used")
		var page wire.List
		require.NoError(t, json.Unmarshal(a.do(http.MethodGet, u.RequestURI(), "").mustStatus(t, http.StatusOK).body, &page))
		assert.Equal(t, 5, page.Total)
		assert.LessOrEqual(t, len(page.Items), 2)
		for _, item := range page.Items {
			var m map[string]any
			require.NoError(t, json.Unmarshal(item, &m))
			got = append(got, m["name"].(string))
		}
		next = ""
		if page.Next != nil {
			next = *page.Next
		}
		pages++
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)

	all := a.do(http.MethodGet, "/secrets", "").mustStatus(t, http.StatusOK).json(t)
	assert.EqualValues(t, 6, all["total"], "across meshes")
	meshes := a.do(http.MethodGet, "/meshes", "").mustStatus(t, http.StatusOK).json(t)
	assert.EqualValues(t, 1, meshes["total"])

	for _, q := range []string{"size=0", "size=1001", "size=x"} {
		e := a.do(http.MethodGet, "/meshes/default/secrets?"+q, "").mustStatus(t, http.StatusBadRequest).apiError(t)
		assert.Equal(t, "size", e.Causes[0].Field)
	}
	e := a.do(http.MethodGet, "/meshes/default/secrets?size=2&offset=garbage!", "").mustStatus(t, http.StatusBadRequest).apiError(t)
	assert.Equal(t, "offset", e.Causes[0].Field)
}

func TestEmptyListIsAnArray(t *testing.T) {
	a := newAPI(t)
	r := a.do(http.MethodGet, "/meshes/default/dataplanes", "").mustStatus(t, http.StatusOK)
	assert.JSONEq(t, `{"total":0,"items":[],"next":null}`, string(r.body))
}
