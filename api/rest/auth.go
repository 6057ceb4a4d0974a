package rest

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// RequireAdmin wraps next so that, when adminToken is not empty, every request must carry it as
// `Authorization: Bearer <token>` (scheme in any case, as RFC 7235 has it; see
// wire.BearerToken). The resource API and the control plane's other admin endpoints (tokens,
// CA status) share it, so they accept exactly the same headers. Both sides are hashed first so
// the comparison takes the same time whatever the presented length.
func RequireAdmin(adminToken string, next http.Handler) http.Handler {
	if adminToken == "" {
		return next
	}
	want := sha256.Sum256([]byte(adminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := wire.BearerToken(r.Header.Get("Authorization"))
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="meshgate"`)
			writeError(w, r, &apiError{status: http.StatusUnauthorized, title: "Unauthorized",
				details: "a valid admin token is required (Authorization: Bearer <token>)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate requires the admin token on every request when one is configured.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return RequireAdmin(h.opts.AdminToken, next)
}
