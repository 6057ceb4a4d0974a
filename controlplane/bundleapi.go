package controlplane

import (
	"net/http"
	"strings"

	"github.com/spiffe/go-spiffe/v2/federation"

	"github.com/meshgate/meshgate/certs"
)

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
		m := cp.rec.Model()
		if m == nil || m.Mesh(mesh) == nil {
			http.Error(w, "mesh "+mesh+" not found", http.StatusNotFound)
			return
		}
		if !m.Mesh(mesh).MTLSEnabled() {
			http.Error(w, "mesh "+mesh+" has no mTLS, hence no trust bundle", http.StatusNotFound)
			return
		}
		authority, err := cp.rec.ids.ca.For(r.Context(), m.Mesh(mesh).Resource)
		if err != nil {
			cp.log.Error("bundle endpoint", "mesh", mesh, "error", err)
			http.Error(w, "mesh "+mesh+": CA unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		x509b, err := authority.Bundle(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
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
