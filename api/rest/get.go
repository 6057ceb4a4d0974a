package rest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/meshgate/meshgate/store"
)

func (h *handler) getGlobal(w http.ResponseWriter, r *http.Request) error {
	t, err := globalTarget(r)
	if err != nil {
		return err
	}
	return h.get(w, r, t)
}

func (h *handler) getInMesh(w http.ResponseWriter, r *http.Request) error {
	t, err := meshTarget(r)
	if err != nil {
		return err
	}
	return h.get(w, r, t)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request, t target) error {
	rec, err := h.lookup(r, t)
	if err != nil {
		return err
	}
	if match, ok := r.Header["If-None-Match"]; ok && etagMatches(match, rec.Version) {
		w.Header().Set("ETag", etag(rec.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writeResource(w, r, http.StatusOK, rec)
}

// lookup reads the target, turning a miss into a 404 that says whether the mesh or the
// resource is what is missing.
func (h *handler) lookup(r *http.Request, t target) (store.Record, error) {
	rec, err := h.store.Get(r.Context(), t.key())
	if err == nil {
		return rec, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return rec, fmt.Errorf("reading %s: %w", t, err)
	}
	if !t.info.Global {
		if err := h.requireMesh(r.Context(), t.mesh); err != nil {
			return rec, err
		}
	}
	return rec, notFound("%s not found", t)
}
