package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// fuzzAdminToken guards the fuzzed API, so the fuzzer also works on the Authorization header.
const fuzzAdminToken = "fuzz-admin-token-7f3a9c2e"

// fuzzBaseline is the store every fuzzed request starts from: a second mesh and a gateway with
// its dataplane, so that updates, cross-mesh references and "unchanged" writes are reachable.
const fuzzBaseline = `
type: Mesh
name: m1
---
type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: edge}}]
conf: {listeners: [{port: 8080, protocol: HTTP, hostname: foo.example.com}]}
---
type: Dataplane
mesh: default
name: edge-1
networking: {address: 127.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}}
---
type: Secret
mesh: m1
name: cert
data: aGVsbG8=
`

// FuzzWrite sends arbitrary PUT and POST requests (path, Content-Type, Authorization and body)
// to the API over a real SQLite store. Whatever the request:
//   - the handler does not panic and never answers 5xx (the store is healthy, so any failure
//     is the request's, and must say so with a 4xx);
//   - a request without the admin token is 401;
//   - a request that is not 2xx changes nothing in the store (revision and every record);
//   - after a 2xx every stored record still decodes: the API never stores what it cannot read;
//   - a JSON answer is valid JSON.
//
// After an accepted write the store is put back to the baseline, so every input meets the
// same store and a failure replays from its input alone.
func FuzzWrite(f *testing.F) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "meshgate.db"))
	require.NoError(f, err)
	f.Cleanup(func() { _ = st.Close() })
	objs, errs := api.Decode("baseline.yaml", []byte(fuzzBaseline))
	require.Empty(f, errs)
	var puts []store.Put
	for _, o := range objs {
		spec, err := api.Encode(o)
		require.NoError(f, err)
		puts = append(puts, store.Put{Key: keyOf(o), Spec: spec, Origin: Origin})
	}
	_, err = st.Apply(ctx, store.ApplyRequest{Puts: puts})
	require.NoError(f, err)
	h := NewHandler(Options{Store: st, AdminToken: fuzzAdminToken, Logger: slog.New(slog.DiscardHandler)})

	for _, s := range fuzzWriteSeeds(f) {
		f.Add(s.post, s.path, s.contentType, s.auth, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, post bool, path, contentType, auth string, body []byte) {
		method := http.MethodPut
		if post {
			method = http.MethodPost
		}
		req, ok := fuzzRequest(method, path, contentType, auth, body)
		if !ok {
			return // net/http's server answers 400 before any handler runs
		}
		before, err := st.All(ctx)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		after, err := st.All(ctx)
		require.NoError(t, err)

		status := rec.Code
		where := method + " " + path
		if status >= 500 {
			t.Fatalf("%s: %d: %s", where, status, rec.Body)
		}
		if !strings.Contains(auth, fuzzAdminToken) && status != http.StatusUnauthorized {
			t.Fatalf("%s without the admin token: %d, want 401", where, status)
		}
		if ct := rec.Header().Get("Content-Type"); ct == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: invalid JSON answer: %q", where, rec.Body)
		}
		if status < 200 || status > 299 {
			if diff := snapshotDiff(before, after); diff != "" {
				t.Fatalf("%s was refused (%d: %s) but changed the store: %s", where, status, rec.Body, diff)
			}
			return
		}
		for _, r := range after.Records {
			if _, errs := api.Decode("stored", r.Spec); len(errs) > 0 {
				t.Fatalf("%s (%d) stored %v, which does not decode: %v\n%s", where, status, r.Key, errs, r.Spec)
			}
		}
		restore(t, st, before, after)
	})
}

// fuzzRequest builds the request net/http's server would hand the handler, or reports that the
// server would have refused it itself (a request target or header value it cannot parse).
func fuzzRequest(method, path, contentType, auth string, body []byte) (*http.Request, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	if _, err := url.ParseRequestURI(path); err != nil {
		return nil, false
	}
	req, err := http.NewRequest(method, "http://127.0.0.1:5681"+path, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	for name, v := range map[string]string{"Content-Type": contentType, "Authorization": auth} {
		if v == "" {
			continue
		}
		if !validHeaderValue(v) {
			return nil, false
		}
		req.Header.Set(name, strings.Trim(v, " \t"))
	}
	return req, true
}

// validHeaderValue is net/http's rule for a field value: no control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// snapshotDiff describes how two snapshots differ, or is "" when they are the same store.
func snapshotDiff(a, b store.Snapshot) string {
	if a.Revision != b.Revision {
		return "revision " + itoa(a.Revision) + " became " + itoa(b.Revision)
	}
	if len(a.Records) != len(b.Records) {
		return itoa(int64(len(a.Records))) + " records became " + itoa(int64(len(b.Records)))
	}
	for i := range a.Records {
		x, y := a.Records[i], b.Records[i]
		if x.Key != y.Key || x.Version != y.Version || x.Origin != y.Origin || !bytes.Equal(x.Spec, y.Spec) {
			return "record " + x.Key.Kind + " " + x.Key.Mesh + "/" + x.Key.Name + " changed"
		}
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// restore undoes what an accepted write did: records it created are deleted, records it
// changed get their old content back.
func restore(t *testing.T, st store.Store, before, after store.Snapshot) {
	old := make(map[store.Key]store.Record, len(before.Records))
	for _, r := range before.Records {
		old[r.Key] = r
	}
	var req store.ApplyRequest
	for _, r := range after.Records {
		prev, existed := old[r.Key]
		switch {
		case !existed:
			req.Deletes = append(req.Deletes, store.Delete{Key: r.Key})
		case !bytes.Equal(prev.Spec, r.Spec) || prev.Origin != r.Origin:
			req.Puts = append(req.Puts, store.Put{Key: r.Key, Spec: prev.Spec, Origin: prev.Origin})
		}
		delete(old, r.Key)
	}
	for _, r := range old { // deleted by a write: nothing here deletes, but be complete
		req.Puts = append(req.Puts, store.Put{Key: r.Key, Spec: r.Spec, Origin: r.Origin})
	}
	if len(req.Puts)+len(req.Deletes) == 0 {
		return
	}
	_, err := st.Apply(context.Background(), req)
	require.NoError(t, err, "restoring the baseline")
}

type writeSeed struct {
	post                    bool
	path, contentType, auth string
	body                    string
}

// fuzzWriteSeeds: valid writes of several kinds (created, updated, unchanged), every example
// file through /apply, and the refusals the API must make: wrong name or mesh for the URL,
// unknown mesh, unknown kind, bad media type, bad or missing admin token.
func fuzzWriteSeeds(f *testing.F) []writeSeed {
	bearer := "Bearer " + fuzzAdminToken
	gw := "type: MeshGateway\nmesh: default\nname: edge\nselectors: [{match: {kuma.io/service: edge}}]\nconf: {listeners: [{port: 8081, protocol: HTTP}]}\n"
	route := `{"type": "MeshGatewayRoute", "mesh": "default", "name": "r", "selectors": [{"match": {"kuma.io/service": "edge"}}],` +
		` "conf": {"http": {"rules": [{"matches": [{"path": {"match": "PREFIX", "value": "/"}}], "backends": [{"destination": {"kuma.io/service": "api"}}]}]}}}`
	seeds := []writeSeed{
		{false, "/meshes/default/meshgateways/edge", "application/yaml", bearer, gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", "bearer  " + fuzzAdminToken, gw},
		{false, "/meshes/default/meshgatewayroutes/r", "application/json", bearer, route},
		{false, "/meshes/default/meshgatewayroutes/r?format=yaml", "", bearer, route},
		{false, "/meshes/m1", "application/json", bearer, `{"type": "Mesh", "name": "m1"}`},
		{false, "/meshes/m2", "application/json", bearer, `{"type": "Mesh", "name": "m2", "mtls": {"enabledBackend": "ca", "backends": [{"name": "ca", "type": "builtin"}]}}`},
		{false, "/meshes/m1/secrets/cert", "text/plain", bearer, "type: Secret\nmesh: m1\nname: cert\ndata: d29ybGQ=\n"},
		{false, "/meshes/m1/dataplanes/dp", "application/yaml", bearer, "type: Dataplane\nmesh: m1\nname: dp\nnetworking: {address: 10.0.0.1, inbound: [{port: 80, tags: {kuma.io/service: web}}]}\n"},
		{false, "/meshes/nowhere/meshgateways/edge", "application/yaml", bearer, strings.Replace(gw, "default", "nowhere", 1)},
		{false, "/meshes/default/meshgateways/other", "application/yaml", bearer, gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml; charset=utf-8", bearer, strings.Replace(gw, "MeshGateway", "MeshGatewayRoute", 1)},
		{false, "/meshes/default/nothings/x", "application/yaml", bearer, gw},
		{false, "/meshes/default/meshgateways/edge", "image/png", bearer, gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", "", gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", "Basic " + fuzzAdminToken, gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", bearer + "x", gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", bearer, gw + "---\n" + gw},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", bearer, ""},
		{false, "/meshes/default/meshgateways/edge", "application/yaml", bearer, "type: MeshGateway\nmesh: default\nname: edge\nconf: {listeners: [{port: 99999}]}\n"},
		{true, "/apply", "application/yaml", bearer, gw + "---\n" + route},
		{true, "/apply", "application/yaml", bearer, "type: Mesh\nname: m3\n---\n" + strings.Replace(gw, "default", "m3", 1)},
		{true, "/apply", "application/yaml", bearer, gw + "---\ntype: MeshGateway\nmesh: nowhere\nname: x\n"},
		{true, "/apply", "", bearer, "---\n"},
		{true, "/apply?format=bogus", "application/json", bearer, route},
		{true, "/meshes/default/meshgateways/edge", "application/yaml", bearer, gw},
	}
	files, err := filepath.Glob("../../examples/*/*.yaml")
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		seeds = append(seeds, writeSeed{true, "/apply", "application/yaml", bearer, string(data)})
	}
	return seeds
}
