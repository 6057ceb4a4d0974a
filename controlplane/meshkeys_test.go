package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// nullSink accepts every snapshot.
type nullSink struct{}

func (nullSink) SetSnapshot(context.Context, string, *cache.Snapshot) (bool, error) { return true, nil }
func (nullSink) Connected(string) bool                                              { return true }
func (nullSink) Release(string) bool                                                { return false }
func (nullSink) ClearSnapshot(string)                                               {}

// keysFixture is a reconciler wired as New wires it, over a real store, without servers.
type keysFixture struct {
	st     store.Store
	rec    *reconciler
	tokens *tokens.Issuer
}

func newKeysFixture(t *testing.T, st store.Store) *keysFixture {
	t.Helper()
	issuer := tokens.New(st, tokens.Options{Logger: quietLogger(), Meshes: meshLookup(st)})
	ids := newTestIdentities(t, st)
	rec := &reconciler{store: st, sink: nullSink{}, log: quietLogger(), ids: ids}
	rec.keys = newMeshKeys(st, issuer, ids, nil, XDSAuthToken, nil, quietLogger())
	return &keysFixture{st: st, rec: rec, tokens: issuer}
}

func (f *keysFixture) rebuild(t *testing.T) {
	t.Helper()
	require.NoError(t, f.rec.rebuild(context.Background()))
}

const keysMeshYAML = `type: Mesh
name: payments
mtls:
  enabledBackend: ca-1
  backends:
  - name: ca-1
    type: builtin
`

const keysDataplaneYAML = `type: Dataplane
mesh: payments
name: gw
networking:
  address: 127.0.0.1
  gateway:
    type: BUILTIN
    tags: {kuma.io/service: gw}
`

// stateBytes prints as its length, to keep failure messages short.
type stateBytes []byte

func (b stateBytes) String() string { return fmt.Sprintf("<%d bytes>", len(b)) }

// apply writes resources as the API does; del deletes them.
func apply(t testing.TB, st store.Store, docs ...string) {
	t.Helper()
	var puts []store.Put
	for _, doc := range docs {
		objs, errs := api.Decode("test", []byte(doc))
		require.Empty(t, errs)
		for _, o := range objs {
			spec, err := api.Encode(o)
			require.NoError(t, err)
			meta := o.GetMeta()
			key := store.Key{Kind: string(meta.Kind), Mesh: meta.Mesh, Name: meta.Name}
			if meta.Kind == api.KindMesh {
				key.Mesh = ""
			}
			puts = append(puts, store.Put{Key: key, Spec: spec})
		}
	}
	_, err := st.Apply(context.Background(), store.ApplyRequest{Puts: puts})
	require.NoError(t, err)
}

func del(t *testing.T, st store.Store, keys ...store.Key) {
	t.Helper()
	var ds []store.Delete
	for _, k := range keys {
		ds = append(ds, store.Delete{Key: k})
	}
	_, err := st.Apply(context.Background(), store.ApplyRequest{Deletes: ds})
	require.NoError(t, err)
}

// implicitDefault is the ledger's entry for the default mesh meshgate provides.
var implicitDefault = meshLedgerItem{Created: tokens.ImplicitMesh}

var (
	meshKey = store.Key{Kind: string(api.KindMesh), Name: "payments"}
	dpKey   = store.Key{Kind: string(api.KindDataplane), Mesh: "payments", Name: "gw"}
)

// stateOf returns the mesh's state entries that exist, by key.
func stateOf(t *testing.T, st store.Store) map[string]stateBytes {
	t.Helper()
	out := map[string]stateBytes{}
	for _, k := range []string{"ca/payments/ca-1", "ca-rotation/payments/retiring", "tokens/payments/signing-key",
		"tokens/payments/revocations", "identities/payments/gw"} {
		raw, _, err := st.GetState(context.Background(), k)
		if err == nil {
			out[k] = raw
			continue
		}
		require.ErrorIs(t, err, store.ErrNotFound, k)
	}
	return out
}

func ledgerOf(t *testing.T, st store.Store) map[string]meshLedgerItem {
	t.Helper()
	l, _, err := readMeshLedger(context.Background(), st)
	require.NoError(t, err)
	return l
}

// useMesh gives the mesh every kind of state: a CA root (and the dataplane's identity, by a
// rebuild), a token signing key and a revocation list. It returns a token.
func (f *keysFixture) useMesh(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	f.rebuild(t)
	tok, err := f.tokens.Issue(ctx, tokens.IssueRequest{Mesh: "payments", Name: "gw"})
	require.NoError(t, err)
	require.NoError(t, f.tokens.Revoke(ctx, "payments", "some-other-token"))
	state := stateOf(t, f.st)
	for _, k := range []string{"ca/payments/ca-1", "tokens/payments/signing-key", "tokens/payments/revocations", "identities/payments/gw"} {
		require.Contains(t, state, k)
	}
	return tok
}

// Deleting a mesh deletes its CA root and key, its token key, its revocations and its
// dataplanes' identities, and the ledger forgets it.
func TestMeshDeletionDeletesItsKeys(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	f := newKeysFixture(t, st)
	apply(t, st, keysMeshYAML, keysDataplaneYAML)
	f.useMesh(t)
	rec, err := st.Get(context.Background(), meshKey)
	require.NoError(t, err)
	assert.Equal(t, map[string]meshLedgerItem{"payments": {Created: rec.CreationTime.UTC(), Backends: []string{"ca-1"}}, "default": implicitDefault}, ledgerOf(t, st))

	del(t, st, dpKey)
	del(t, st, meshKey)
	f.rebuild(t)
	assert.Empty(t, stateOf(t, st))
	assert.Equal(t, map[string]meshLedgerItem{"default": implicitDefault}, ledgerOf(t, st))
}

// A mesh deleted and created again between two rebuilds (within the debounce) is a new mesh:
// the first one's state is deleted, the new one's kept, the first one's tokens refused.
func TestMeshRecreatedWithinOneRebuild(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t, t.TempDir())
	f := newKeysFixture(t, st)
	apply(t, st, keysMeshYAML, keysDataplaneYAML)
	old := f.useMesh(t)
	before := stateOf(t, st)

	del(t, st, dpKey)
	del(t, st, meshKey)
	apply(t, st, keysMeshYAML, keysDataplaneYAML)
	f.rebuild(t)
	after := stateOf(t, st)
	assert.NotContains(t, after, "tokens/payments/signing-key", "the first mesh's token key is gone")
	assert.NotContains(t, after, "tokens/payments/revocations")
	require.Contains(t, after, "ca/payments/ca-1", "the new mesh has its CA")
	assert.NotEqual(t, rootCert(t, before["ca/payments/ca-1"]), rootCert(t, after["ca/payments/ca-1"]), "a new root")
	var id struct {
		RootSHA256 string `json:"rootSHA256"` // as ca/identity stores it
	}
	require.NoError(t, json.Unmarshal(after["identities/payments/gw"], &id))
	assert.Equal(t, id.RootSHA256, rootFingerprint(t, after["ca/payments/ca-1"]), "the dataplane's identity is from the new root")

	_, err := f.tokens.Verify(ctx, old, "payments", "gw")
	require.ErrorIs(t, err, tokens.ErrInvalid)
	rec, err := st.Get(ctx, meshKey)
	require.NoError(t, err)
	assert.Equal(t, rec.CreationTime.UTC(), ledgerOf(t, st)["payments"].Created)
}

// A mesh deleted while no control plane ran (its --resources file removed, say) is cleaned up
// by the next one, from the ledger.
func TestMeshDeletedWhileDown(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	f := newKeysFixture(t, st)
	apply(t, st, keysMeshYAML, keysDataplaneYAML)
	f.useMesh(t)
	del(t, st, dpKey)
	del(t, st, meshKey)

	// A new process: nothing cached, only the ledger remembers the mesh.
	newKeysFixture(t, st).rebuild(t)
	state := stateOf(t, st)
	for _, k := range []string{"ca/payments/ca-1", "tokens/payments/signing-key", "tokens/payments/revocations"} {
		assert.NotContains(t, state, k)
	}
	assert.Equal(t, map[string]meshLedgerItem{"default": implicitDefault}, ledgerOf(t, st))
}

// Control planes that each record meshes keep each other's entries.
func TestMeshLedgerMerges(t *testing.T) {
	t0 := time.Now().UTC()
	theirs := map[string]meshLedgerItem{
		"a": {Created: t0, Backends: []string{"ca-1"}},
		"b": {Created: t0},
		"c": {Created: t0.Add(time.Hour)},
	}
	got := mergeLedger(theirs,
		map[string]time.Time{"b": t0, "c": t0},
		map[string]meshLedgerItem{"a": {Created: t0, Backends: []string{"ca-2"}}, "d": {Created: t0}})
	assert.Equal(t, map[string]meshLedgerItem{
		"a": {Created: t0, Backends: []string{"ca-1", "ca-2"}},
		"c": {Created: t0.Add(time.Hour)}, // a later mesh than the one removed
		"d": {Created: t0},
	}, got)
	assert.Len(t, theirs, 3, "the input is not modified")
}

func rootCert(t *testing.T, raw []byte) string {
	t.Helper()
	var st struct {
		Cert string `json:"cert"`
	}
	require.NoError(t, json.Unmarshal(raw, &st))
	require.True(t, strings.HasPrefix(st.Cert, "-----BEGIN CERTIFICATE"))
	return st.Cert
}

func rootFingerprint(t *testing.T, raw []byte) string {
	t.Helper()
	cs, err := certs.ParseCertificates([]byte(rootCert(t, raw)))
	require.NoError(t, err)
	return ca.Fingerprint(cs[0])
}

// The default mesh exists without a Mesh resource. Storing one configures that mesh (tokens
// issued before stay valid); deleting it again deletes that mesh's keys.
func TestDefaultMeshLifecycle(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t, t.TempDir())
	f := newKeysFixture(t, st)
	f.rebuild(t)
	implicit, err := f.tokens.Issue(ctx, tokens.IssueRequest{Mesh: "default", Name: "gw"})
	require.NoError(t, err)

	defaultMesh := strings.Replace(keysMeshYAML, "name: payments", "name: default", 1)
	apply(t, st, defaultMesh)
	f.rebuild(t)
	_, err = f.tokens.Verify(ctx, implicit, "default", "gw")
	require.NoError(t, err, "the stored Mesh is the mesh the token was issued in")
	rec, err := st.Get(ctx, store.Key{Kind: string(api.KindMesh), Name: "default"})
	require.NoError(t, err)
	assert.Equal(t, rec.CreationTime.UTC(), ledgerOf(t, st)["default"].Created)
	_, err = f.rec.ids.Authority(ctx, f.rec.Model().Mesh("default").Resource) // creates the CA
	require.NoError(t, err)
	_, _, err = st.GetState(ctx, "ca/default/ca-1")
	require.NoError(t, err)

	del(t, st, store.Key{Kind: string(api.KindMesh), Name: "default"})
	f.rebuild(t)
	_, err = f.tokens.Verify(ctx, implicit, "default", "gw")
	require.ErrorIs(t, err, tokens.ErrInvalid, "deleting the Mesh deleted the mesh")
	for _, k := range []string{"ca/default/ca-1", "tokens/default/signing-key"} {
		_, _, err := st.GetState(ctx, k)
		require.ErrorIs(t, err, store.ErrNotFound, k)
	}
	assert.Equal(t, implicitDefault, ledgerOf(t, st)["default"])
}
