package controlplane

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/ca/identity"
)

// withCAAPI serves GET /meshes/{mesh}/ca: the mesh's enabled backend, every root it trusts and
// how far a CA rotation has got. It shows how many dataplanes the mesh has, so it sits behind
// the admin token like the resource API.
func (cp *ControlPlane) withCAAPI(next http.Handler) http.Handler {
	status := rest.RequireAdmin(cp.cfg.AdminToken, http.HandlerFunc(cp.serveCAStatus))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := caPath(r.URL.Path); !ok {
			next.ServeHTTP(w, r)
			return
		}
		status.ServeHTTP(w, r)
	})
}

func (cp *ControlPlane) serveCAStatus(w http.ResponseWriter, r *http.Request) {
	mesh, _ := caPath(r.URL.Path)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	built := cp.builtMTLSMesh(w, r, mesh, "CA")
	if built == nil {
		return
	}
	st, err := cp.rec.ids.Status(r.Context(), built)
	if err != nil {
		cp.log.Error("CA status endpoint", "mesh", mesh, "error", err)
		meshUnavailable(w, "mesh "+mesh+": CA unavailable: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		cp.log.Debug("CA status endpoint: writing response", "error", err)
	}
}

// CAStatus is the document GET /meshes/{mesh}/ca answers with; ca/identity makes it.
type CAStatus = identity.CAStatus

// caPath extracts the mesh from /meshes/{mesh}/ca.
func caPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/meshes/")
	if !ok {
		return "", false
	}
	mesh, tail, ok := strings.Cut(rest, "/")
	if !ok || tail != "ca" || mesh == "" {
		return "", false
	}
	return mesh, true
}
