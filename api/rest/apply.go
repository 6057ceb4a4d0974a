package rest

import (
	"net/http"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// apply writes every resource of a multi-document YAML or JSON body in one transaction: if
// any document is invalid, or names a mesh that does not exist, nothing is written.
func (h *handler) apply(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	objs, errs := api.Decode(bodyFile, body)
	if len(errs) > 0 {
		return invalid(explainRedacted(body, errs))
	}
	if len(objs) == 0 {
		return badRequest("the body holds no resource")
	}
	changes, err := h.write(r.Context(), objs, nil)
	if err != nil {
		return err
	}
	resp := wire.ApplyResponse{Results: make([]wire.ApplyResult, len(changes))}
	for i, c := range changes {
		resp.Results[i] = wire.ApplyResult{Type: c.key.Kind, Mesh: c.key.Mesh, Name: c.key.Name,
			Version: c.rec.Version, Status: c.status}
	}
	writeValue(w, r, http.StatusOK, resp)
	return nil
}
