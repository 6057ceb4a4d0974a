package rest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The scheme is case-insensitive (RFC 7235), as xDS has always accepted it; whitespace around
// the token is not part of it; a blank token is refused even when it would hash like nothing.
func TestAdminTokenSchemeAnyCase(t *testing.T) {
	a := newAPI(t, func(o *Options) { o.AdminToken = "s3cret" })
	for header, want := range map[string]int{
		"Bearer s3cret":       http.StatusOK,
		"bearer s3cret":       http.StatusOK,
		"BEARER s3cret":       http.StatusOK,
		"Bearer   s3cret  ":   http.StatusOK,
		"Bearer\ts3cret":      http.StatusOK,
		"bearer":              http.StatusUnauthorized,
		"Bearer ":             http.StatusUnauthorized,
		"bearer s3cret extra": http.StatusUnauthorized,
		"Bearers3cret":        http.StatusUnauthorized,
		"Basic s3cret":        http.StatusUnauthorized,
	} {
		r := a.do(http.MethodGet, "/meshes", "", "Authorization", header)
		assert.Equal(t, want, r.status, "Authorization: %q: %s", header, r.body)
	}
}
