package rest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest/wire"
)

func TestPutValidationReportsEveryCause(t *testing.T) {
	a := newAPI(t)
	bad := `type: MeshGateway
mesh: default
name: gw
selectors:
- match: {}
conf:
  listeners:
  - port: 80
    protocol: HTTP
    hostname: Foo.example.com
`
	for _, body := range []string{bad, toJSON(t, bad)} {
		e := a.do(http.MethodPut, "/meshes/default/meshgateways/gw", body).mustStatus(t, http.StatusBadRequest).apiError(t)
		assert.Equal(t, "Could not process a resource", e.Title)
		assert.Equal(t, "Resource is not valid", e.Details)
		var got []string
		for _, c := range e.Causes {
			got = append(got, c.Field+": "+c.Message)
			assert.Equal(t, "MeshGateway default/gw", c.Resource)
		}
		// JSON puts everything on line 1, where causes sort by field instead.
		assert.ElementsMatch(t, []string{
			"selectors[0].match: must have at least one tag",
			`selectors[0].match: mandatory tag "kuma.io/service" is missing`,
			"conf.listeners[0].hostname: invalid hostname",
		}, got)
	}
	assert.Empty(t, a.snapshot())
}

func TestPutMustAgreeWithURL(t *testing.T) {
	cases := []struct {
		name  string
		path  string
		body  string
		field string
	}{
		{"type", "/meshes/default/dataplanes/edge-gateway", gatewayYAML, "type"},
		{"mesh", "/meshes/other/meshgateways/edge-gateway", gatewayYAML, "mesh"},
		{"omitted mesh defaults", "/meshes/other/secrets/cert", "type: Secret\nname: cert\ndata: aGk=\n", "mesh"},
		{"name", "/meshes/default/meshgateways/other", gatewayYAML, "name"},
		{"mesh name", "/meshes/m2", meshYAML, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t)
			e := a.do(http.MethodPut, c.path, c.body).mustStatus(t, http.StatusBadRequest).apiError(t)
			require.Len(t, e.Causes, 1, "%+v", e)
			assert.Equal(t, c.field, e.Causes[0].Field)
			assert.Contains(t, e.Causes[0].Message, "does not match the URL")
		})
	}
}

func TestPutBodyShape(t *testing.T) {
	a := newAPI(t)
	e := a.do(http.MethodPut, "/meshes/default/secrets/cert", secretYAML+"---\n"+secretYAML).mustStatus(t, http.StatusBadRequest).apiError(t)
	assert.Contains(t, e.Details+causeText(e), "already defined at request:1")
	e = a.do(http.MethodPut, "/meshes/default/secrets/cert", "").mustStatus(t, http.StatusBadRequest).apiError(t)
	assert.Contains(t, e.Details, "no resource")
	two := secretYAML + "---\n" + strings.Replace(secretYAML, "name: cert", "name: cert2", 1)
	e = a.do(http.MethodPut, "/meshes/default/secrets/cert", two).mustStatus(t, http.StatusBadRequest).apiError(t)
	assert.Contains(t, e.Details, "PUT takes one")
	e = a.do(http.MethodPut, "/meshes/default/secrets/cert", secretYAML, "Content-Type", "image/png").
		mustStatus(t, http.StatusUnsupportedMediaType).apiError(t)
	assert.Contains(t, e.Details, "image/png")
	big := secretYAML + "#" + strings.Repeat("x", MaxBodyBytes) + "\n"
	a.do(http.MethodPut, "/meshes/default/secrets/cert", big).mustStatus(t, http.StatusRequestEntityTooLarge)
	a.do(http.MethodPost, "/apply", big).mustStatus(t, http.StatusRequestEntityTooLarge)
}

func causeText(e wire.Error) string {
	var b strings.Builder
	for _, c := range e.Causes {
		b.WriteString(c.Field + ": " + c.Message + "\n")
	}
	return b.String()
}

func TestPutIntoMissingMesh(t *testing.T) {
	a := newAPI(t)
	gw := strings.Replace(gatewayYAML, "mesh: default", "mesh: x", 1)
	e := a.do(http.MethodPut, "/meshes/x/meshgateways/edge-gateway", gw).mustStatus(t, http.StatusBadRequest).apiError(t)
	require.Len(t, e.Causes, 1)
	assert.Equal(t, "mesh", e.Causes[0].Field)
	assert.Equal(t, `mesh "x" does not exist`, e.Causes[0].Message)

	a.do(http.MethodPut, "/meshes/x", "type: Mesh\nname: x\n").mustStatus(t, http.StatusCreated)
	a.do(http.MethodPut, "/meshes/x/meshgateways/edge-gateway", gw).mustStatus(t, http.StatusCreated)
	// default needs no Mesh resource: Kuma creates it, and the model supplies it.
	a.do(http.MethodPut, "/meshes/default/meshgateways/edge-gateway", gatewayYAML).mustStatus(t, http.StatusCreated)
}

// Two dataplanes whose node ids collide (`a`/`b.c` and `a.b`/`c` are both node `a.b.c`) would
// receive each other's configuration: the second is refused, naming the stored first.
func TestPutDataplaneWithTakenNodeID(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, "/meshes/a", "type: Mesh\nname: a\n").mustStatus(t, http.StatusCreated)
	a.do(http.MethodPut, "/meshes/a.b", "type: Mesh\nname: a.b\n").mustStatus(t, http.StatusCreated)
	dp := "type: Dataplane\nmesh: %s\nname: %s\nnetworking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}}\n"
	a.do(http.MethodPut, "/meshes/a/dataplanes/b.c", fmt.Sprintf(dp, "a", "b.c")).mustStatus(t, http.StatusCreated)
	e := a.do(http.MethodPut, "/meshes/a.b/dataplanes/c", fmt.Sprintf(dp, "a.b", "c")).mustStatus(t, http.StatusBadRequest).apiError(t)
	require.Len(t, e.Causes, 1, "%+v", e)
	assert.Equal(t, "name", e.Causes[0].Field)
	assert.Contains(t, e.Causes[0].Message, `node id "a.b.c" is already used by Dataplane a/b.c`)
}
