package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/api/rest/wire"
	"github.com/meshgate/meshgate/store"
)

// apiServer is the handler on a real 127.0.0.1 listener over an in-memory store.
type apiServer struct {
	t     *testing.T
	srv   *httptest.Server
	store *memStore
}

func newAPI(t *testing.T, configure ...func(*Options)) *apiServer {
	t.Helper()
	st := newMemStore()
	opts := Options{Store: st}
	for _, c := range configure {
		c(&opts)
	}
	srv := httptest.NewServer(NewHandler(opts))
	t.Cleanup(srv.Close)
	return &apiServer{t: t, srv: srv, store: st}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; headers are name, value pairs.
func (a *apiServer) do(method, path, body string, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	require.NoError(a.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := a.srv.Client().Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

func (r response) apiError(t *testing.T) wire.Error {
	t.Helper()
	var e wire.Error
	require.NoError(t, json.Unmarshal(r.body, &e), string(r.body))
	return e
}

// mustStatus fails with the body, which carries the server's reason.
func (r response) mustStatus(t *testing.T, want int) response {
	t.Helper()
	require.Equal(t, want, r.status, "%s", r.body)
	return r
}

func toJSON(t *testing.T, y string) string {
	t.Helper()
	b, err := yaml.YAMLToJSON([]byte(y))
	require.NoError(t, err)
	return string(b)
}

func (a *apiServer) snapshot() []store.Record {
	a.t.Helper()
	snap, err := a.store.All(context.Background())
	require.NoError(a.t, err)
	return snap.Records
}

// Resources of every kind, in universal form.
const (
	meshYAML = "type: Mesh\nname: m1\n"

	dataplaneYAML = `type: Dataplane
mesh: default
name: gateway-instance-1
networking:
  address: 127.0.0.1
  gateway:
    type: BUILTIN
    tags:
      kuma.io/service: edge-gateway
`
	gatewayYAML = `type: MeshGateway
mesh: default
name: edge-gateway
selectors:
- match:
    kuma.io/service: edge-gateway
conf:
  listeners:
  - port: 8080
    protocol: HTTP
    hostname: foo.example.com
    tags:
      port: http/8080
`
	routeYAML = `type: MeshGatewayRoute
mesh: default
name: api-route
selectors:
- match:
    kuma.io/service: edge-gateway
    port: http/8080
conf:
  http:
    rules:
    - matches:
      - path:
          match: PREFIX
          value: /api
      backends:
      - destination:
          kuma.io/service: api
`
	secretYAML = "type: Secret\nmesh: default\nname: cert\ndata: aGVsbG8=\n"
)
