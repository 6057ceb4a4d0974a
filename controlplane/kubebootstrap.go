package controlplane

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/kube/podconv"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/bootstrap"
	"github.com/meshgate/meshgate/xds/render"
)

// withKubeBootstrapAPI serves POST /kubernetes/bootstrap in Kubernetes mode: the pod's
// ServiceAccount token (checked as xDS checks it) buys the Envoy bootstrap of the Dataplane
// meshgate derived from that pod, ready to run: node id, the xDS address pods reach, the CA
// that verifies it, and the same token for Envoy to present.
func (cp *ControlPlane) withKubeBootstrapAPI(next http.Handler) http.Handler {
	if cp.kube == nil {
		return next
	}
	auth := cp.kube.auth(cp.store, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != client.KubernetesBootstrapPath {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeTokenError(w, http.StatusMethodNotAllowed, "Method not allowed", "POST a bootstrap request")
			return
		}
		token, ok := wire.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			writeTokenError(w, http.StatusUnauthorized, "Unauthorized", "send the pod's ServiceAccount token as \"Authorization: Bearer <token>\"")
			return
		}
		var req client.KubernetesBootstrapRequest
		if !decodeTokenRequest(w, r, &req) {
			return
		}
		if req.Pod == "" || req.Namespace == "" {
			writeTokenError(w, http.StatusBadRequest, "Bad request", "pod and namespace are required")
			return
		}
		// Whose token it is comes first: an unauthenticated caller learns nothing of which pods
		// are Dataplanes.
		if _, _, err := auth.review(r.Context(), token); err != nil {
			if errors.Is(err, tokens.ErrInvalid) {
				writeTokenError(w, http.StatusUnauthorized, "Unauthorized", err.Error())
			} else {
				cp.log.Error("cannot review a pod's ServiceAccount token", "error", err)
				writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot check the token right now; retry")
			}
			return
		}
		name := podconv.DataplaneName(req.Namespace, req.Pod)
		dp, err := cp.dataplaneNamed(r, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			writeTokenError(w, http.StatusNotFound, "Not found", err.Error())
			return
		case err != nil:
			cp.log.Error("cannot read a pod's Dataplane", "pod", name, "error", err)
			writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot read the store right now; retry")
			return
		}
		if _, err := auth.verify(r.Context(), token, dp.Mesh, name); err != nil {
			code := http.StatusForbidden
			if errors.Is(err, tokens.ErrInvalid) {
				code = http.StatusUnauthorized
			} else if !errors.Is(err, tokens.ErrWrongDataplane) {
				cp.log.Error("cannot check a pod's ServiceAccount token", "pod", name, "error", err)
				writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot check the token right now; retry")
				return
			}
			writeTokenError(w, code, http.StatusText(code), err.Error())
			return
		}
		b, err := bootstrap.New(bootstrap.Request{Dataplane: dp, ControlPlane: cp.kube.cfg.XDSAddress, AdminPort: req.AdminPort,
			Token: token, ControlPlaneCA: cp.serving.CAPEM(), Insecure: cp.cfg.TLS.XDSInsecure})
		if err != nil {
			writeTokenError(w, http.StatusInternalServerError, "Internal error", err.Error())
			return
		}
		obj, err := render.Object(b)
		if err != nil {
			writeTokenError(w, http.StatusInternalServerError, "Internal error", err.Error())
			return
		}
		if m, ok := obj.(map[string]any); ok {
			delete(m, "@type") // Envoy reads a bare Bootstrap, not an Any.
		}
		data, err := render.Marshal(obj, "yaml")
		if err != nil {
			writeTokenError(w, http.StatusInternalServerError, "Internal error", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(data)
	})
}

// dataplaneNamed finds the Dataplane of that name in whichever mesh the pod is in: a few key
// reads (one per mesh), not a listing of every Dataplane, since pods of a rollout all ask.
func (cp *ControlPlane) dataplaneNamed(r *http.Request, name string) (*api.Dataplane, error) {
	meshes, err := cp.store.List(r.Context(), store.ListRequest{Kind: string(api.KindMesh)})
	if err != nil {
		return nil, err
	}
	names := []string{api.DefaultMesh}
	for _, m := range meshes.Records {
		if m.Name != api.DefaultMesh {
			names = append(names, m.Name)
		}
	}
	for _, mesh := range names {
		rec, err := cp.store.Get(r.Context(), store.Key{Kind: string(api.KindDataplane), Mesh: mesh, Name: name})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		objs, errs := api.Decode(rec.Name, rec.Spec)
		if len(errs) > 0 || len(objs) != 1 {
			return nil, fmt.Errorf("dataplane %s: stored resource does not decode: %v", name, errs)
		}
		if dp, ok := objs[0].(*api.Dataplane); ok {
			return dp, nil
		}
	}
	return nil, fmt.Errorf("%w: no Dataplane %s: the pod is not (yet) part of a mesh, or has no IP yet", store.ErrNotFound, name)
}
