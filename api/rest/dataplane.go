package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// dataplaneView serves a computed view of one dataplane (`xds`, `inspect`). The dataplane is
// looked up first so that a wrong name is the same 404 as on the resource itself.
func (h *handler) dataplaneView(what string, view func(ctx context.Context, mesh, name string) (any, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if view == nil {
			return &apiError{status: http.StatusNotImplemented, title: "Not implemented",
				details: what + " is not available on this server"}
		}
		info, _ := api.LookupKind(api.KindDataplane)
		t := target{info: info, mesh: r.PathValue("mesh"), name: r.PathValue("name")}
		if _, err := h.lookup(r, t); err != nil {
			return err
		}
		v, err := view(r.Context(), t.mesh, t.name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return notFound("%s: %v", what, err)
		case errors.Is(err, ErrServedElsewhere):
			return &apiError{status: http.StatusConflict, title: "Served by another control plane", details: err.Error()}
		case err != nil:
			return fmt.Errorf("%s of %s: %w", what, t, err)
		}
		writeValue(w, r, http.StatusOK, v)
		return nil
	}
}

// ErrServedElsewhere is a view's error for a dataplane this control plane lists but does not
// serve (a zone's dataplane on global); the error's text says where to ask.
var ErrServedElsewhere = errors.New("served by another control plane")

// index describes the API: every resource type and where its collection is.
func (h *handler) index(w http.ResponseWriter, r *http.Request) error {
	type kind struct {
		Type   string `json:"type"`
		Path   string `json:"path"`
		Global bool   `json:"global,omitempty"`
	}
	var kinds []kind
	for _, k := range api.Kinds() {
		info, _ := api.LookupKind(k)
		path := "/" + wire.Plural(k)
		if !info.Global {
			path = "/meshes/{mesh}" + path
		}
		kinds = append(kinds, kind{Type: string(k), Path: path, Global: info.Global})
	}
	writeValue(w, r, http.StatusOK, map[string]any{"tagline": "meshgate", "resources": kinds})
	return nil
}
