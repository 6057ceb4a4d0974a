package rest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest/wire"
)

func applyResults(t *testing.T, r response) []string {
	t.Helper()
	var resp wire.ApplyResponse
	require.NoError(t, json.Unmarshal(r.body, &resp), string(r.body))
	var out []string
	for _, res := range resp.Results {
		out = append(out, res.Type+" "+res.Mesh+"/"+res.Name+" "+res.Status)
	}
	return out
}

func TestApply(t *testing.T) {
	a := newAPI(t)
	all := strings.Join([]string{meshYAML, dataplaneYAML, gatewayYAML, routeYAML, secretYAML}, "---\n")
	r := a.do(http.MethodPost, "/apply", all, "Content-Type", "application/yaml").mustStatus(t, http.StatusOK)
	assert.Equal(t, []string{
		"Mesh /m1 created",
		"Dataplane default/gateway-instance-1 created",
		"MeshGateway default/edge-gateway created",
		"MeshGatewayRoute default/api-route created",
		"Secret default/cert created",
	}, applyResults(t, r))
	before := a.snapshot()
	assert.Len(t, before, 5)

	r = a.do(http.MethodPost, "/apply", all).mustStatus(t, http.StatusOK)
	assert.Equal(t, "Mesh /m1 unchanged", applyResults(t, r)[0])
	assert.Equal(t, before, a.snapshot(), "unchanged resources are not rewritten")

	changed := strings.Replace(all, "aGVsbG8=", "aGk=", 1)
	r = a.do(http.MethodPost, "/apply", changed).mustStatus(t, http.StatusOK)
	assert.Equal(t, "Secret default/cert configured", applyResults(t, r)[4])

	// Mesh and a resource in it, created together, in JSON documents.
	both := toJSON(t, "type: Mesh\nname: m2\n") + "\n---\n" + toJSON(t, secretNamed("m2", "s"))
	r = a.do(http.MethodPost, "/apply", both, "Content-Type", "application/json").mustStatus(t, http.StatusOK)
	assert.Equal(t, []string{"Mesh /m2 created", "Secret m2/s created"}, applyResults(t, r))
}

// A bad document anywhere fails the whole body: nothing before it is written.
func TestApplyIsAllOrNothing(t *testing.T) {
	cases := []struct {
		name  string
		third string
		cause string
	}{
		{"invalid third document", strings.Replace(routeYAML, "value: /api", "value: api", 1),
			"conf.http.rules[0].matches[0].path.value: must be an absolute path"},
		{"third in a missing mesh", secretNamed("nope", "s"), `mesh: mesh "nope" does not exist`},
		{"third not YAML", "type: [", "invalid YAML"},
		{"third duplicates the first", meshYAML, "already defined at request:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t)
			a.do(http.MethodPut, "/meshes/default/secrets/cert", secretYAML).mustStatus(t, http.StatusCreated)
			before := a.snapshot()
			body := strings.Join([]string{meshYAML, strings.Replace(secretYAML, "aGVsbG8=", "aGk=", 1), c.third}, "---\n")
			e := a.do(http.MethodPost, "/apply", body).mustStatus(t, http.StatusBadRequest).apiError(t)
			assert.Contains(t, causeText(e), c.cause)
			assert.Equal(t, before, a.snapshot())
		})
	}
	a := newAPI(t)
	e := a.do(http.MethodPost, "/apply", "# nothing\n").mustStatus(t, http.StatusBadRequest).apiError(t)
	assert.Contains(t, e.Details, "no resource")
}

func TestApplyCausesLocateTheDocument(t *testing.T) {
	a := newAPI(t)
	body := meshYAML + "---\n" + strings.Replace(routeYAML, "value: /api", "value: api", 1)
	e := a.do(http.MethodPost, "/apply", body).mustStatus(t, http.StatusBadRequest).apiError(t)
	require.Len(t, e.Causes, 1)
	assert.Equal(t, wire.Cause{
		Field:    "conf.http.rules[0].matches[0].path.value",
		Message:  "must be an absolute path",
		Resource: "MeshGatewayRoute default/api-route",
		Line:     17, // the route starts on line 4; its path value is its 14th line
	}, e.Causes[0])
}
