package rest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDeleteMeshWithResources(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, "/meshes/m1", meshYAML).mustStatus(t, http.StatusCreated)
	a.do(http.MethodPut, "/meshes/m1/secrets/a", secretNamed("m1", "a")).mustStatus(t, http.StatusCreated)
	a.do(http.MethodPut, "/meshes/m1/secrets/b", secretNamed("m1", "b")).mustStatus(t, http.StatusCreated)

	e := a.do(http.MethodDelete, "/meshes/m1", "").mustStatus(t, http.StatusConflict).apiError(t)
	assert.Equal(t, "Mesh is not empty", e.Title)
	assert.Contains(t, e.Details, `mesh "m1" still holds 2 resources`)
	var left []string
	for _, c := range e.Causes {
		left = append(left, c.Resource)
	}
	assert.Equal(t, []string{"Secret m1/a", "Secret m1/b"}, left)
	a.do(http.MethodGet, "/meshes/m1", "").mustStatus(t, http.StatusOK)

	a.do(http.MethodDelete, "/meshes/m1/secrets/a", "").mustStatus(t, http.StatusOK)
	a.do(http.MethodDelete, "/meshes/m1/secrets/b", "").mustStatus(t, http.StatusOK)
	a.do(http.MethodDelete, "/meshes/m1", "").mustStatus(t, http.StatusOK)
	assert.Empty(t, a.snapshot())
}
