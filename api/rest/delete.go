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

func (h *handler) deleteGlobal(w http.ResponseWriter, r *http.Request) error {
	t, err := globalTarget(r)
	if err != nil {
		return err
	}
	return h.delete(w, r, t)
}

func (h *handler) deleteInMesh(w http.ResponseWriter, r *http.Request) error {
	t, err := meshTarget(r)
	if err != nil {
		return err
	}
	return h.delete(w, r, t)
}

// delete removes one resource. Deleting a mesh that still holds resources is refused rather
// than cascaded: a silent cascade would take down every gateway in the mesh.
func (h *handler) delete(w http.ResponseWriter, r *http.Request, t target) error {
	pre := parsePreconditions(r)
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	for attempt := 1; ; attempt++ {
		err := h.tryDelete(r, t, pre)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if attempt == writeAttempts {
			return &apiError{status: http.StatusConflict, title: "Conflict",
				details: fmt.Sprintf("%s kept changing while being deleted; retry", t)}
		}
	}
	h.log.Info("resource deleted", "kind", t.info.Kind, "mesh", t.mesh, "name", t.name)
	writeValue(w, r, http.StatusOK, struct{}{})
	return nil
}

func (h *handler) tryDelete(r *http.Request, t target, pre preconditions) error {
	cur, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	if err := pre.check(t, &cur); err != nil {
		return err
	}
	if err := h.writable(t.key(), &cur); err != nil {
		return err
	}
	if t.info.Kind == api.KindMesh {
		if err := h.requireEmpty(r.Context(), t.name); err != nil {
			return err
		}
	}
	_, err = h.store.Apply(r.Context(), store.ApplyRequest{
		Deletes: []store.Delete{{Key: t.key(), ExpectedVersion: cur.Version}},
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("%s not found", t)
	case err != nil:
		return fmt.Errorf("deleting %s: %w", t, err)
	}
	return nil
}

// requireEmpty is 409, listing every resource still in the mesh, unless it holds none.
func (h *handler) requireEmpty(ctx context.Context, mesh string) error {
	snap, err := h.store.All(ctx)
	if err != nil {
		return fmt.Errorf("reading the store: %w", err)
	}
	var causes []wire.Cause
	for _, rec := range snap.Records {
		if rec.Mesh == mesh && rec.Kind != string(api.KindMesh) {
			causes = append(causes, wire.Cause{Field: "mesh", Resource: rec.Kind + " " + rec.Mesh + "/" + rec.Name,
				Message: fmt.Sprintf("still in mesh %q", mesh)})
		}
	}
	if len(causes) == 0 {
		return nil
	}
	what := "resources"
	if len(causes) == 1 {
		what = "resource"
	}
	return &apiError{status: http.StatusConflict, title: "Mesh is not empty",
		details: fmt.Sprintf("mesh %q still holds %d %s; delete them first", mesh, len(causes), what), causes: causes}
}
