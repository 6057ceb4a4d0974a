package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meshgate/meshgate/store"
)

func TestDataplaneViews(t *testing.T) {
	view := func(what string) func(context.Context, string, string) (any, error) {
		return func(_ context.Context, mesh, name string) (any, error) {
			if name == "gone" {
				return nil, fmt.Errorf("no snapshot for %s/%s: %w", mesh, name, store.ErrNotFound)
			}
			if name == "broken" {
				return nil, errors.New("translation failed")
			}
			return map[string]any{"view": what, "dataplane": mesh + "/" + name}, nil
		}
	}
	a := newAPI(t, func(o *Options) { o.Render, o.Inspect = view("xds"), view("inspect") })
	for _, name := range []string{"gateway-instance-1", "gone", "broken"} {
		dp := dataplaneYAML
		if name != "gateway-instance-1" {
			dp = fmt.Sprintf("type: Dataplane\nmesh: default\nname: %s\nnetworking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}}\n", name)
		}
		a.do(http.MethodPut, "/meshes/default/dataplanes/"+name, dp).mustStatus(t, http.StatusCreated)
	}
	for _, what := range []string{"xds", "inspect"} {
		t.Run(what, func(t *testing.T) {
			base := "/meshes/default/dataplanes/"
			ok := a.do(http.MethodGet, base+"gateway-instance-1/"+what, "").mustStatus(t, http.StatusOK).json(t)
			assert.Equal(t, map[string]any{"view": what, "dataplane": "default/gateway-instance-1"}, ok)
			y := a.do(http.MethodGet, base+"gateway-instance-1/"+what+"?format=yaml", "").mustStatus(t, http.StatusOK)
			assert.Equal(t, "dataplane: default/gateway-instance-1\nview: "+what+"\n", string(y.body))
			assert.Contains(t, a.do(http.MethodGet, base+"nope/"+what, "").mustStatus(t, http.StatusNotFound).apiError(t).Details,
				"Dataplane default/nope not found")
			a.do(http.MethodGet, "/meshes/nope/dataplanes/x/"+what, "").mustStatus(t, http.StatusNotFound)
			a.do(http.MethodGet, base+"gone/"+what, "").mustStatus(t, http.StatusNotFound)
			assert.Contains(t, a.do(http.MethodGet, base+"broken/"+what, "").mustStatus(t, http.StatusInternalServerError).apiError(t).Details,
				"translation failed")
		})
	}
}
