package controlplane

import (
	"net/http"

	"github.com/meshgate/meshgate/api/client"
)

// withControlPlaneCAAPI serves GET /control-plane/ca: the PEM clients trust to verify the
// control plane (xDS and the HTTPS API). It is public, like a bundle endpoint, so a
// bootstrap can be built without the admin token.
func (cp *ControlPlane) withControlPlaneCAAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != client.ControlPlaneCAPath {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		pem := cp.serving.CAPEM()
		if len(pem) == 0 {
			http.Error(w, "the control plane's certificate (--tls-cert-file) carries no CA; ask its operator for the issuing CA", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(pem)
	})
}
