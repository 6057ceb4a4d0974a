package rest

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticate requires the admin token on every request when one is configured. Both sides
// are hashed first so the comparison takes the same time whatever the presented length.
func (h *handler) authenticate(next http.Handler) http.Handler {
	if h.opts.AdminToken == "" {
		return next
	}
	want := sha256.Sum256([]byte(h.opts.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
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
