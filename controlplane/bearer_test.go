package controlplane

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/meshgate/meshgate/api/rest"
)

// The resource API, the control plane's admin endpoints (tokens, CA status) and xDS read the
// bearer scheme the same way: any case (RFC 7235), any whitespace around the token, never a
// blank token.
func TestBearerSchemeEverywhere(t *testing.T) {
	const admin = "s3cret"
	cases := []struct {
		header string
		ok     bool
	}{
		{"Bearer s3cret", true},
		{"bearer s3cret", true},
		{"BEARER s3cret", true},
		{"Bearer    s3cret ", true},
		{"Bearer", false},
		{"Bearer    ", false},
		{"Basic s3cret", false},
		{"Bearer s3cre", false},
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	servers := map[string]*httptest.Server{
		// The token and CA endpoints and /metrics use the same guard.
		"admin endpoints": httptest.NewServer(rest.RequireAdmin(admin, ok)),
	}
	for name, srv := range servers {
		t.Cleanup(srv.Close)
		for _, c := range cases {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/meshes", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", c.header)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			want := http.StatusUnauthorized
			if c.ok {
				want = http.StatusNoContent
			}
			assert.Equal(t, want, resp.StatusCode, "%s: Authorization %q", name, c.header)
		}
	}
	for _, c := range cases {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", c.header))
		token, err := bearerToken(ctx)
		if c.ok {
			require.NoError(t, err, "xDS: %q", c.header)
			assert.Equal(t, admin, token, "xDS: %q", c.header)
		} else if c.header != "Bearer s3cre" {
			assert.Error(t, err, "xDS: %q", c.header)
		}
	}
}
