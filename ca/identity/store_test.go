package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// countingStore counts the successful writes of dataplane certificates (one per issue), and
// the batches.
type countingStore struct {
	store.Store
	mu      sync.Mutex
	writes  map[string]int
	batches int
}

func newCountingStore(st store.Store) *countingStore {
	return &countingStore{Store: st, writes: map[string]int{}}
}

func (s *countingStore) PutState(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	v, err := s.Store.PutState(ctx, key, value, expected)
	if err == nil {
		s.count(key, value)
	}
	return v, err
}

func (s *countingStore) PutStates(ctx context.Context, writes []store.StateWrite) ([]int64, error) {
	vs, err := s.Store.PutStates(ctx, writes)
	s.mu.Lock()
	s.batches++
	s.mu.Unlock()
	if err == nil {
		for _, w := range writes {
			if !w.Delete {
				s.count(w.Key, w.Value)
			}
		}
	}
	return vs, err
}

func (s *countingStore) count(key string, value []byte) {
	if strings.HasPrefix(key, "identities/") && key != identityIndexKey && len(value) > 0 {
		s.mu.Lock()
		s.writes[strings.TrimPrefix(key, "identities/default/")]++
		s.mu.Unlock()
	}
}

// batchCount returns the number of PutStates calls since the last call.
func (s *countingStore) batchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.batches
	s.batches = 0
	return n
}

// issued returns the dataplanes whose certificates were written since the last call.
func (s *countingStore) issued() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.writes
	s.writes = map[string]int{}
	return out
}

func storedDoc(t *testing.T, st store.Store, dataplane string) (storedIdentity, bool) {
	t.Helper()
	raw, _, err := st.GetState(context.Background(), identityStateKey("default", dataplane))
	if err != nil {
		require.ErrorIs(t, err, store.ErrNotFound)
		return storedIdentity{}, false
	}
	if len(raw) == 0 {
		return storedIdentity{}, false
	}
	var doc storedIdentity
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc, true
}

func storedIndex(t *testing.T, st store.Store) []string {
	t.Helper()
	raw, _, err := st.GetState(context.Background(), identityIndexKey)
	require.NoError(t, err)
	var idx identityIndex
	require.NoError(t, json.Unmarshal(raw, &idx))
	return idx.Dataplanes
}

func sameIdentities(t *testing.T, want, got map[string]*Identity, names ...string) {
	t.Helper()
	for _, n := range names {
		require.NotNil(t, got[n], n)
		assert.Equal(t, want[n].CertificateChain, got[n].CertificateChain, "%s: chain", n)
		assert.Equal(t, want[n].PrivateKey, got[n].PrivateKey, "%s: key", n)
	}
}

// TestIdentitiesSurviveRestart: a control plane started on the store of a previous one serves
// the certificates it issued, byte for byte, without issuing anything; so does the store
// reopened from disk.
func TestIdentitiesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	raw := openTestStore(t, dir)
	st := newCountingStore(raw)
	mesh := rotMesh(3, "ca-1", "ca-1")
	before := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), mesh)
	assert.Equal(t, map[string]int{"dp-0": 1, "dp-1": 1, "dp-2": 1}, st.issued(), "one write per issue")
	assert.Equal(t, []string{"default/dp-0", "default/dp-1", "default/dp-2"}, storedIndex(t, st))

	clk.Advance(time.Hour)
	restarted := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	after := rebuild(t, restarted, mesh)
	sameIdentities(t, before.ids, after.ids, "dp-0", "dp-1", "dp-2")
	assert.Empty(t, st.issued(), "nothing issued after the restart")
	assert.Equal(t, restarted.byNode[Dataplane{"default", "dp-0"}].renewAt, after.wake, "renewal is still scheduled")
	assert.False(t, after.wake.IsZero())
	// A rebuild on the restored cache reads nothing and writes nothing.
	again := rebuild(t, restarted, mesh)
	sameIdentities(t, before.ids, again.ids, "dp-0", "dp-1", "dp-2")
	assert.Empty(t, st.issued())

	// From disk, as after a process restart.
	require.NoError(t, raw.Close())
	reopened := newCountingStore(openTestStore(t, dir))
	fromDisk := rebuild(t, newTestIdentities(t, reopened, DefaultRotationOptions(), clk), mesh)
	sameIdentities(t, before.ids, fromDisk.ids, "dp-0", "dp-1", "dp-2")
	assert.Empty(t, reopened.issued())
}

// TestStoredIdentityReissued: a stored certificate is not served when the mesh no longer
// trusts its root, the dataplane's tags changed, it expired or it is due for renewal, or it
// does not verify; the new one replaces it in the store.
func TestStoredIdentityReissued(t *testing.T) {
	cases := []struct {
		name string
		// change runs between the two control planes: on the clock, the mesh or the store.
		change func(t *testing.T, clk *fakeClock, mesh *model.Mesh, st store.Store) *model.Mesh
	}{
		{"root no longer trusted", func(_ *testing.T, _ *fakeClock, _ *model.Mesh, _ store.Store) *model.Mesh {
			return rotMesh(3, "ca-2", "ca-2")
		}},
		{"tags changed", func(_ *testing.T, _ *fakeClock, mesh *model.Mesh, _ store.Store) *model.Mesh {
			next := rotMesh(3, "ca-1", "ca-1")
			next.Dataplanes[0].Spec.Networking.Gateway.Tags["version"] = "v2"
			return next
		}},
		{"expired", func(_ *testing.T, clk *fakeClock, mesh *model.Mesh, _ store.Store) *model.Mesh {
			clk.Advance(ca.DefaultLeafLifetime + time.Minute)
			return mesh
		}},
		{"due for renewal", func(_ *testing.T, clk *fakeClock, mesh *model.Mesh, _ store.Store) *model.Mesh {
			clk.Advance(ca.DefaultLeafLifetime * 9 / 10)
			return mesh
		}},
		{"key not the leaf's", func(t *testing.T, _ *fakeClock, mesh *model.Mesh, st store.Store) *model.Mesh {
			doc, _ := storedDoc(t, st, "dp-0")
			other, _ := storedDoc(t, st, "dp-1")
			doc.PrivateKey = other.PrivateKey
			putDoc(t, st, "dp-0", doc)
			return mesh
		}},
		{"leaf of another dataplane", func(t *testing.T, _ *fakeClock, mesh *model.Mesh, st store.Store) *model.Mesh {
			doc, _ := storedDoc(t, st, "dp-0")
			other, _ := storedDoc(t, st, "dp-1")
			doc.Chain, doc.PrivateKey = other.Chain, other.PrivateKey
			putDoc(t, st, "dp-0", doc)
			return mesh
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			st := newCountingStore(openTestStore(t, t.TempDir()))
			mesh := rotMesh(3, "ca-1", "ca-1", "ca-2")
			before := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), mesh)
			st.issued()

			mesh = tc.change(t, clk, mesh, st)
			st.issued()
			after := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), mesh)
			assert.NotEqual(t, before.ids["dp-0"].CertificateChain, after.ids["dp-0"].CertificateChain, "dp-0 re-issued")
			bundle, err := certs.ParseBundle("default", []byte(after.ids["dp-0"].TrustBundle))
			require.NoError(t, err)
			_, err = certs.VerifySVID(chainOf(t, after.ids["dp-0"]), bundle, clk.Now())
			require.NoError(t, err)
			assert.Equal(t, 1, st.issued()["dp-0"], "the new certificate is stored")
			doc, ok := storedDoc(t, st, "dp-0")
			require.True(t, ok)
			assert.Equal(t, after.ids["dp-0"].CertificateChain, doc.Chain)

			// And it is what the next control plane serves.
			next := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), mesh)
			sameIdentities(t, after.ids, next.ids, "dp-0", "dp-1", "dp-2")
			assert.Empty(t, st.issued())
		})
	}
}

func putDoc(t *testing.T, st store.Store, dataplane string, doc storedIdentity) {
	t.Helper()
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	_, err = st.PutState(context.Background(), identityStateKey("default", dataplane), raw, 0)
	require.NoError(t, err)
}

// TestRestoredStaleIdentityRateLimited: certificates restored from an older backend are kept
// and moved to the enabled one at the rotation's pace, as if this process had issued them.
func TestRestoredStaleIdentityRateLimited(t *testing.T) {
	clk := newFakeClock()
	st := newCountingStore(openTestStore(t, t.TempDir()))
	before := rebuild(t, newTestIdentities(t, st, noJitter(2, 2), clk), rotMesh(5, "ca-1", "ca-1", "ca-2"))
	st.issued()

	switched := rotMesh(5, "ca-2", "ca-1", "ca-2")
	ids := newTestIdentities(t, st, noJitter(2, 2), clk)
	after := rebuild(t, ids, switched)
	sameIdentities(t, before.ids, after.ids, "dp-0", "dp-1", "dp-2", "dp-3", "dp-4")
	assert.Empty(t, st.issued(), "nothing re-issued at once")
	assert.Equal(t, clk.Now().Add(10*time.Second), after.wake, "re-issues scheduled after the settle time")

	clk.Advance(10 * time.Second)
	rebuild(t, ids, switched)
	assert.Len(t, st.issued(), 2, "two re-issues, as the rate limit allows")
}

// TestForgottenIdentityCleared: a deleted dataplane's stored certificate is deleted, also when
// it was deleted while no control plane ran.
func TestForgottenIdentityCleared(t *testing.T) {
	clk := newFakeClock()
	st := openTestStore(t, t.TempDir())
	ids := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	rebuild(t, ids, rotMesh(4, "ca-1", "ca-1"))
	for _, n := range []string{"dp-0", "dp-1", "dp-2", "dp-3"} {
		_, ok := storedDoc(t, st, n)
		require.True(t, ok, n)
	}

	rebuild(t, ids, rotMesh(3, "ca-1", "ca-1"))
	_, ok := storedDoc(t, st, "dp-3")
	assert.False(t, ok, "dp-3 cleared")
	_, _, err := st.GetState(context.Background(), identityStateKey("default", "dp-3"))
	require.ErrorIs(t, err, store.ErrNotFound, "dp-3 deleted, not blanked")
	assert.Equal(t, []string{"default/dp-0", "default/dp-1", "default/dp-2"}, storedIndex(t, st))

	// dp-2 goes while no control plane runs: the next one clears it from the index.
	rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), rotMesh(2, "ca-1", "ca-1"))
	_, _, err = st.GetState(context.Background(), identityStateKey("default", "dp-2"))
	require.ErrorIs(t, err, store.ErrNotFound, "dp-2 deleted after the restart")
	assert.Equal(t, []string{"default/dp-0", "default/dp-1"}, storedIndex(t, st))
	for _, n := range []string{"dp-0", "dp-1"} {
		_, ok := storedDoc(t, st, n)
		assert.True(t, ok, n)
	}

	// A dataplane that comes back is issued anew.
	back := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), rotMesh(3, "ca-1", "ca-1"))
	doc, ok := storedDoc(t, st, "dp-2")
	require.True(t, ok)
	assert.Equal(t, back.ids["dp-2"].CertificateChain, doc.Chain)
}

// TestControlPlanesShareIdentities: control planes on one store serve one certificate per
// dataplane. One that starts later uses what the first stored; when both renew at once, the
// one whose write comes second takes the other's certificate.
func TestControlPlanesShareIdentities(t *testing.T) {
	clk := newFakeClock()
	st := newCountingStore(openTestStore(t, t.TempDir()))
	mesh := rotMesh(3, "ca-1", "ca-1")
	a := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	fromA := rebuild(t, a, mesh)
	st.issued()
	b := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	fromB := rebuild(t, b, mesh)
	sameIdentities(t, fromA.ids, fromB.ids, "dp-0", "dp-1", "dp-2")
	assert.Empty(t, st.issued())

	// Both are due for renewal; a renews first, then b issues too but finds a's in the store.
	clk.Advance(ca.DefaultLeafLifetime * 9 / 10)
	renewedA := rebuild(t, a, mesh)
	renewedB := rebuild(t, b, mesh)
	assert.NotEqual(t, fromA.ids["dp-0"].CertificateChain, renewedA.ids["dp-0"].CertificateChain)
	assert.NotEqual(t, renewedA.ids["dp-0"].CertificateChain, renewedB.ids["dp-0"].CertificateChain,
		"b served its own before its write failed")
	assert.Equal(t, map[string]int{"dp-0": 1, "dp-1": 1, "dp-2": 1}, st.issued(), "only a's certificates are stored")
	nextB := rebuild(t, b, mesh)
	sameIdentities(t, renewedA.ids, nextB.ids, "dp-0", "dp-1", "dp-2")
	assert.Empty(t, st.issued())
}

// flakyStore fails certificate writes while down, counting the attempts.
type flakyStore struct {
	store.Store
	mu       sync.Mutex
	down     bool
	attempts int
}

func (s *flakyStore) PutState(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	s.mu.Lock()
	down := s.down && strings.HasPrefix(key, "identities/")
	if down {
		s.attempts++
	}
	s.mu.Unlock()
	if down {
		return 0, errors.New("store unreachable")
	}
	return s.Store.PutState(ctx, key, value, expected)
}

func (s *flakyStore) PutStates(ctx context.Context, writes []store.StateWrite) ([]int64, error) {
	s.mu.Lock()
	down := false
	for _, w := range writes {
		down = down || (s.down && strings.HasPrefix(w.Key, "identities/"))
	}
	if down {
		s.attempts++
	}
	s.mu.Unlock()
	if down {
		return nil, errors.New("store unreachable")
	}
	return s.Store.PutStates(ctx, writes)
}

func (s *flakyStore) set(down bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.attempts
	s.down, s.attempts = down, 0
	return n
}

// TestUnstoredIdentityWrittenLater: certificates served while the store refused their writes
// are written by the next rebuild, not issued again; a failing store is not hammered.
func TestUnstoredIdentityWrittenLater(t *testing.T) {
	clk := newFakeClock()
	st := &flakyStore{Store: openTestStore(t, t.TempDir())}
	mesh := rotMesh(20, "ca-1", "ca-1")
	ids := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	st.set(true)
	first := rebuild(t, ids, mesh)
	assert.Equal(t, 1, st.set(false), "one batch, and after its failure nothing else is tried")
	_, ok := storedDoc(t, st, "dp-0")
	require.False(t, ok)

	second := rebuild(t, ids, mesh)
	sameIdentities(t, first.ids, second.ids, "dp-0", "dp-19")
	for _, n := range []string{"dp-0", "dp-19"} {
		doc, ok := storedDoc(t, st, n)
		require.True(t, ok, n)
		assert.Equal(t, first.ids[n].CertificateChain, doc.Chain)
	}
	restarted := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), mesh)
	sameIdentities(t, first.ids, restarted.ids, "dp-0", "dp-19")
}

// TestIssuedIdentitiesWrittenInOneBatch: a rebuild stores what it issued in one transaction;
// one that issues nothing writes nothing.
func TestIssuedIdentitiesWrittenInOneBatch(t *testing.T) {
	clk := newFakeClock()
	st := newCountingStore(openTestStore(t, t.TempDir()))
	ids := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	rebuild(t, ids, rotMesh(5, "ca-1", "ca-1"))
	assert.Len(t, st.issued(), 5)
	assert.Equal(t, 1, st.batchCount())
	rebuild(t, ids, rotMesh(5, "ca-1", "ca-1"))
	assert.Empty(t, st.issued())
	assert.Zero(t, st.batchCount())
	// Two dataplanes go: their entries are deleted in one batch.
	rebuild(t, ids, rotMesh(3, "ca-1", "ca-1"))
	assert.Equal(t, 1, st.batchCount())
	for _, n := range []string{"dp-3", "dp-4"} {
		_, _, err := st.GetState(context.Background(), identityStateKey("default", n))
		require.ErrorIs(t, err, store.ErrNotFound, n)
	}
}

// TestBatchConflictKeepsOthers: when another control plane wrote one of the entries of a
// rebuild's batch, the batch fails whole; the others are stored all the same, and the
// conflicting one is resolved as on its own.
func TestBatchConflictKeepsOthers(t *testing.T) {
	clk := newFakeClock()
	st := newCountingStore(openTestStore(t, t.TempDir()))
	mesh := rotMesh(3, "ca-1", "ca-1")
	ids := newTestIdentities(t, st, DefaultRotationOptions(), clk)
	rebuild(t, ids, mesh)
	st.issued()

	// Another writer rewrites dp-1's entry with something unusable: this process's version
	// of it is stale now.
	_, err := st.Store.PutState(context.Background(), identityStateKey("default", "dp-1"), []byte(`{"format":1}`), 0)
	require.NoError(t, err)
	clk.Advance(ca.DefaultLeafLifetime * 9 / 10)
	renewed := rebuild(t, ids, mesh)
	assert.Equal(t, map[string]int{"dp-0": 1, "dp-1": 1, "dp-2": 1}, st.issued(), "every renewal stored")
	for _, n := range []string{"dp-0", "dp-1", "dp-2"} {
		doc, ok := storedDoc(t, st, n)
		require.True(t, ok, n)
		assert.Equal(t, renewed.ids[n].CertificateChain, doc.Chain, n)
	}
	// The cache has the new versions: the next renewal's batch goes through whole.
	clk.Advance(ca.DefaultLeafLifetime * 9 / 10)
	st.batchCount()
	rebuild(t, ids, mesh)
	assert.Equal(t, 1, st.batchCount())
	assert.Len(t, st.issued(), 3)
}

// TestBlankIdentityFromOlderVersion: an entry blanked by a version without state deletes is
// read as absent, overwritten by an issue, and deleted when its dataplane is gone.
func TestBlankIdentityFromOlderVersion(t *testing.T) {
	clk := newFakeClock()
	st := openTestStore(t, t.TempDir())
	rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), rotMesh(3, "ca-1", "ca-1"))
	for _, n := range []string{"dp-1", "dp-2"} {
		_, err := st.PutState(context.Background(), identityStateKey("default", n), nil, 0)
		require.NoError(t, err)
	}
	// dp-1 is still there: issued anew; dp-2 is gone: its blank entry is deleted.
	after := rebuild(t, newTestIdentities(t, st, DefaultRotationOptions(), clk), rotMesh(2, "ca-1", "ca-1"))
	doc, ok := storedDoc(t, st, "dp-1")
	require.True(t, ok)
	assert.Equal(t, after.ids["dp-1"].CertificateChain, doc.Chain)
	_, _, err := st.GetState(context.Background(), identityStateKey("default", "dp-2"))
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, []string{"default/dp-0", "default/dp-1"}, storedIndex(t, st))
}
