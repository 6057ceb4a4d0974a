package controlplane

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

// The reconciler renders again only what impactOf says a change reaches, and gives gateway
// replicas their configuration from a class. Both are optimisations that must not change what
// any dataplane receives; these tests hold them to every golden case (xds/testdata/golden).

const goldenDir = "../xds/testdata/golden"

var placeholder = regexp.MustCompile(`@@(CERT|CACERT) (rsa|ecdsa) ([^@\s]+)@@`)

// goldenInputs decodes every golden case's input, certificates generated for its placeholders.
func goldenInputs(t *testing.T) map[string][]api.Object {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	out := map[string][]api.Object{}
	for _, path := range dirs {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		text := placeholder.ReplaceAllStringFunc(string(raw), func(ph string) string {
			ca := certstest.NewRoot(t, "golden")
			if strings.HasPrefix(ph, "@@CACERT") {
				return base64.StdEncoding.EncodeToString(ca.CertPEM())
			}
			return base64.StdEncoding.EncodeToString(append(ca.KeyPEM(t), ca.CertPEM()...))
		})
		objs, errs := api.Decode(path, []byte(text))
		require.Empty(t, errs, path)
		out[filepath.Base(filepath.Dir(path))] = objs
	}
	return out
}

// testWorld is the world the reconciler would build from objs (offline network, no bundles);
// every record is at version 1 but those named in bumped.
func testWorld(t *testing.T, objs []api.Object, bumped map[store.Key]bool) *world {
	t.Helper()
	m, errs := model.Build(objs)
	require.Empty(t, errs)
	w := &world{model: m, network: build.PreviewNetwork(m), versions: map[store.Key]int64{}}
	for _, o := range objs {
		meta := o.GetMeta()
		k := keyOf(meta)
		w.versions[k] = 1
		if bumped[k] {
			w.versions[k] = 2
		}
	}
	w.shape = networkShape(w.network, w.bundles)
	return w
}

func keyOf(meta *api.Meta) store.Key {
	k := store.Key{Kind: string(meta.Kind), Mesh: meta.Mesh, Name: meta.Name}
	if meta.Kind == api.KindMesh {
		k.Mesh = ""
	}
	return k
}

// mutation is one change to a case: the objects after it and the record it touches.
type mutation struct {
	what string
	objs []api.Object
	key  store.Key
}

func mutations(objs []api.Object) []mutation {
	var out []mutation
	replace := func(i int, o api.Object) []api.Object {
		next := append([]api.Object{}, objs...)
		if o == nil {
			return append(next[:i], next[i+1:]...)
		}
		next[i] = o
		return next
	}
	for i, o := range objs {
		meta := o.GetMeta()
		switch r := o.(type) {
		case *api.Dataplane:
			moved := *r
			moved.Spec = cloneSpec(r.Spec)
			if strings.Contains(r.Spec.Networking.Address, ":") {
				moved.Spec.Networking.Address = "fd00::99"
			} else {
				moved.Spec.Networking.Address = "10.250.0.99"
			}
			out = append(out, mutation{"move " + meta.DisplayName(), replace(i, &moved), keyOf(meta)})
			if len(r.Spec.Networking.Inbound) > 0 {
				reported := *r
				reported.Spec = cloneSpec(r.Spec)
				reported.Spec.Networking.Inbound[0].Port++
				out = append(out, mutation{"re-port " + meta.DisplayName(), replace(i, &reported), keyOf(meta)})
			}
			out = append(out, mutation{"delete " + meta.DisplayName(), replace(i, nil), keyOf(meta)})
		case *api.MeshGatewayRoute:
			out = append(out, mutation{"delete " + meta.DisplayName(), replace(i, nil), keyOf(meta)})
		}
	}
	return out
}

func cloneSpec(s api.DataplaneSpec) api.DataplaneSpec {
	s.Networking.Inbound = append([]api.Inbound{}, s.Networking.Inbound...)
	return s
}

// renderIn renders every dataplane of w offline; nil for one that does not render.
func renderIn(w *world) map[string]*render.Output {
	out := map[string]*render.Output{}
	for _, ms := range w.model.Meshes() {
		for _, dp := range ms.Dataplanes {
			o, err := render.Render(build.Request{Model: w.model, Mesh: ms.Name, Name: dp.Name, Options: build.DefaultOptions(), Network: w.network})
			if err == nil {
				out[names.Node(ms.Name, dp.Name)] = o
			}
		}
	}
	return out
}

func sameVersions(a, b *cache.Snapshot) bool {
	for i := range a.Resources {
		if a.Resources[i].Version != b.Resources[i].Version {
			return false
		}
	}
	return true
}

func TestImpactCoversEveryChangedDataplane(t *testing.T) {
	checked, narrowed := 0, 0
	for name, objs := range goldenInputs(t) {
		before := testWorld(t, objs, nil)
		outBefore := renderIn(before)
		for _, mu := range mutations(objs) {
			if _, errs := model.Build(mu.objs); len(errs) > 0 {
				continue
			}
			after := testWorld(t, mu.objs, map[store.Key]bool{mu.key: true})
			im := impactOf(before, after, changedKeys(before.versions, after.versions))
			if !im.all {
				narrowed++
			}
			for node, o := range renderIn(after) {
				prev := outBefore[node]
				if prev == nil {
					continue // newly rendered: the reconciler renders a dataplane it does not serve
				}
				checked++
				if !sameVersions(prev.Snapshot, o.Snapshot) {
					ms := before.model.Mesh(prev.Proxy.Mesh)
					builtin := ms.Dataplane(prev.Proxy.Dataplane).Spec.IsBuiltin()
					assert.True(t, im.reaches(node, dependenciesOf(prev.Proxy, builtin)),
						"%s: %s changed %s, which the change was not said to reach", name, mu.what, node)
				}
			}
		}
	}
	t.Logf("%d dataplane renderings compared; %d changes narrowed below every dataplane", checked, narrowed)
	require.Greater(t, checked, 200)
	require.Greater(t, narrowed, 50, "the impact must narrow most dataplane and route changes")
}

// A gateway replica's configuration taken from its class is exactly what rendering it alone
// gives, with and without an identity.
func TestGatewayClassesRenderAsAlone(t *testing.T) {
	shared := 0
	for name, objs := range goldenInputs(t) {
		for _, o := range objs {
			rep, ok := o.(*api.Dataplane)
			if !ok || !rep.Spec.IsBuiltin() {
				continue
			}
			twin := *rep
			twin.Name = rep.Name + "-replica"
			if strings.Contains(rep.Spec.Networking.Address, ":") {
				twin.Spec.Networking.Address = "fd00::77"
			} else {
				twin.Spec.Networking.Address = "10.250.0.77"
			}
			for _, addr := range []string{twin.Spec.Networking.Address, rep.Spec.Networking.Address} {
				twin := twin
				twin.Spec.Networking.Address = addr
				all := append(append([]api.Object{}, objs...), &twin)
				w := testWorld(t, all, nil)
				ms := w.model.Mesh(rep.Mesh)
				var repID, twinID *build.Identity
				if ms.MTLSEnabled() {
					repID = &build.Identity{CertificateChain: "rep-chain", PrivateKey: "rep-key", TrustBundle: "bundle"}
					twinID = &build.Identity{CertificateChain: "twin-chain", PrivateKey: "twin-key", TrustBundle: "bundle"}
				}
				r := &reconciler{opts: build.DefaultOptions()}
				key := classKey(ms, ms.Dataplane(rep.Name), repID != nil)
				if key == "" {
					continue
				}
				require.Equal(t, key, classKey(ms, ms.Dataplane(twin.Name), twinID != nil), name)
				out, served, err := render.Serve(r.request(w, ms, ms.Dataplane(rep.Name), repID))
				if err != nil {
					continue
				}
				c := newClass(ms.Dataplane(rep.Name), out, served, dependenciesOf(out.Proxy, true))
				got, ok, err := c.member(ms.Dataplane(twin.Name), twinID)
				require.NoError(t, err, name)
				if !ok {
					continue
				}
				shared++
				_, want, err := render.Serve(r.request(w, ms, ms.Dataplane(twin.Name), twinID))
				require.NoError(t, err, name)
				for i := range want.Resources {
					assert.Equal(t, want.Resources[i].Version, got.Resources[i].Version, "%s: %s at %s, type %d", name, twin.Name, addr, i)
					for rn, wr := range want.Resources[i].Items {
						gr, ok := got.Resources[i].Items[rn]
						if assert.True(t, ok, "%s: %s", name, rn) {
							assert.Equal(t, mustRaw(t, wr.Resource), mustRaw(t, gr.Resource), "%s: %s", name, rn)
						}
					}
				}
			}
		}
	}
	t.Logf("%d gateway replicas shared their class's configuration", shared)
	require.Greater(t, shared, 20, "most golden gateways must be shareable")
}

func mustRaw(t *testing.T, r types.Resource) []byte {
	t.Helper()
	raw, err := cache.MarshalResource(r)
	require.NoError(t, err)
	return raw
}
