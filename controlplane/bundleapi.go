package controlplane

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spiffe/go-spiffe/v2/federation"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// meshRetryAfter is the Retry-After (seconds) of a 503 for a mesh that is not built yet: about
// one rebuild, so a federation client polls again soon instead of dropping the mesh's bundle.
const meshRetryAfter = "2"

// withBundleAPI serves GET /meshes/{mesh}/bundle: the mesh's trust bundle in the SPIFFE
// federation format (a JWKS), so other systems (SPIRE, another meshgate, a proxy outside the
// mesh) can trust the mesh's workloads. Trust anchors are public, so it needs no admin token.
func (cp *ControlPlane) withBundleAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mesh, ok := bundlePath(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		built := cp.builtMTLSMesh(w, r, mesh, "trust bundle")
		if built == nil {
			return
		}
		authority, err := cp.rec.ids.Authority(r.Context(), built.Resource)
		if err != nil {
			cp.log.Error("bundle endpoint", "mesh", mesh, "error", err)
			meshUnavailable(w, "mesh "+mesh+": CA unavailable: "+err.Error())
			return
		}
		x509b, err := authority.Bundle(r.Context())
		if err != nil {
			meshUnavailable(w, err.Error())
			return
		}
		sb := certs.SPIFFEBundle(x509b)
		h, err := federation.NewHandler(sb.TrustDomain(), sb)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// builtMTLSMesh returns the mesh as of the last build, for endpoints that serve what its CA
// holds (bundle, CA status), or answers the request itself and returns nil. The last build is
// not the truth about which meshes exist: before the first one, and between a write and the
// rebuild it causes, a mesh can be in the store and not in the model. Answering 404 then would
// make a federation client drop the mesh's bundle, so such a mesh gets 503 with Retry-After;
// 404 is only for a mesh the store does not have, or one whose stored spec has no mTLS (it has
// no CA, so no bundle, and no rebuild will change that).
func (cp *ControlPlane) builtMTLSMesh(w http.ResponseWriter, r *http.Request, mesh, what string) *model.Mesh {
	m := cp.rec.Model()
	if m == nil {
		meshUnavailable(w, "the control plane is starting: mesh "+mesh+" is not built yet")
		return nil
	}
	built := m.Mesh(mesh)
	if built != nil && built.MTLSEnabled() {
		return built
	}
	noMTLS := func() *model.Mesh {
		http.Error(w, "mesh "+mesh+" has no mTLS, hence no "+what, http.StatusNotFound)
		return nil
	}
	rec, err := cp.store.Get(r.Context(), store.Key{Kind: string(api.KindMesh), Name: mesh})
	if errors.Is(err, store.ErrNotFound) {
		if built != nil {
			// The implicit `default` mesh, which exists without a record.
			return noMTLS()
		}
		http.Error(w, "mesh "+mesh+" not found", http.StatusNotFound)
		return nil
	}
	if err != nil {
		cp.log.Error("mesh endpoint: reading the store", "mesh", mesh, "error", err)
		meshUnavailable(w, "mesh "+mesh+": the store is unavailable")
		return nil
	}
	stored, err := decodeStoredMesh(rec)
	if err != nil {
		// The reconciler skips it too (and logs why), so it will not be built.
		http.Error(w, "mesh "+mesh+": "+err.Error(), http.StatusInternalServerError)
		return nil
	}
	if !stored.Spec.MTLSEnabled() {
		return noMTLS()
	}
	meshUnavailable(w, "mesh "+mesh+" is not built yet; retry shortly")
	return nil
}

func decodeStoredMesh(rec store.Record) (*api.Mesh, error) {
	objs, errs := api.Decode("store", rec.Spec)
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("stored Mesh does not decode: %w", err)
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("stored Mesh holds %d resources", len(objs))
	}
	m, ok := objs[0].(*api.Mesh)
	if !ok {
		return nil, fmt.Errorf("stored Mesh is a %s", objs[0].GetMeta().Kind)
	}
	return m, nil
}

// meshUnavailable is a 503 the client should retry: the answer will exist after a rebuild.
func meshUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", meshRetryAfter)
	http.Error(w, msg, http.StatusServiceUnavailable)
}

// bundlePath extracts the mesh from /meshes/{mesh}/bundle.
func bundlePath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/meshes/")
	if !ok {
		return "", false
	}
	mesh, tail, ok := strings.Cut(rest, "/")
	if !ok || tail != "bundle" || mesh == "" {
		return "", false
	}
	return mesh, true
}
