package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

const testToken = "t0ken"

// testAPI is the real HTTP API over the embedded store, on 127.0.0.1.
type testAPI struct {
	url   string
	store store.Store
}

// startAPI starts the API and points the CLI at it through the environment, as a user would.
func startAPI(t *testing.T) *testAPI {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meshgate.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	inspect := func(_ context.Context, mesh, name string) (any, error) {
		return map[string]any{"dataplane": mesh + "/" + name, "stream": map[string]any{"connected": false}}, nil
	}
	srv := httptest.NewServer(rest.NewHandler(rest.Options{Store: st, AdminToken: testToken, Inspect: inspect}))
	t.Cleanup(srv.Close)
	t.Setenv(envAPIAddress, srv.URL)
	t.Setenv(envAdminToken, testToken)
	return &testAPI{url: srv.URL, store: st}
}

func (a *testAPI) records(t *testing.T) []store.Record {
	t.Helper()
	snap, err := a.store.All(context.Background())
	require.NoError(t, err)
	return snap.Records
}

func TestClientFlags(t *testing.T) {
	api := startAPI(t)
	cases := []struct {
		name string
		args []string
		want int
		err  string
	}{
		{"environment", nil, 0, ""},
		{"token flag wins", []string{"--admin-token", "wrong"}, 1, "a valid admin token is required"},
		{"address flag wins", []string{"--api-address", "http://127.0.0.1:1"}, 1, "meshgate API at http://127.0.0.1:1"},
		{"bad address", []string{"--api-address", "127.0.0.1:5681"}, 1, "want http://HOST:PORT"},
		{"explicit flags", []string{"--api-address", api.url, "--admin-token", testToken}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append([]string{"get", "meshes"}, c.args...)...)
			assert.Equal(t, c.want, code, stderr)
			assert.Contains(t, stderr, c.err)
		})
	}
}

func TestHelpNeverShowsTheToken(t *testing.T) {
	startAPI(t)
	for _, cmd := range []string{"apply", "get", "delete", "inspect"} {
		out, _, code := runCLI(t, cmd, "--help")
		require.Equal(t, 0, code)
		assert.Contains(t, out, "--admin-token")
		assert.Contains(t, out, `--api-address string   control plane HTTP API address (env MESHGATE_API_ADDRESS) (default "http://127.0.0.1:5681")`)
		assert.NotContains(t, out, testToken)
	}
}
