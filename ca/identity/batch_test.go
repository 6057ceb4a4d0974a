package identity

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
)

// rebuildAll is rebuild with the identities asked for at once, through ForAll.
func rebuildAll(t testing.TB, ids *Service, mesh *model.Mesh) rebuilt {
	t.Helper()
	ids.SetModel(&model.Model{})
	return forAll(t, ids, mesh)
}

// forAll asks ForAll for every dataplane of mesh in the current rebuild, then ends it.
func forAll(t testing.TB, ids *Service, mesh *model.Mesh) rebuilt {
	t.Helper()
	reqs := make([]Request, len(mesh.Dataplanes))
	keep := map[Dataplane]bool{}
	for n, dp := range mesh.Dataplanes {
		reqs[n] = Request{Mesh: mesh, Dataplane: dp}
		keep[Dataplane{mesh.Name, dp.Name}] = true
	}
	res := ids.ForAll(context.Background(), reqs)
	require.Len(t, res, len(reqs))
	out := rebuilt{ids: map[string]*Identity{}}
	for n, r := range res {
		require.NoError(t, r.Err, mesh.Dataplanes[n].Name)
		out.ids[mesh.Dataplanes[n].Name] = r.Identity
		out.wake = earliest(out.wake, r.Wake)
	}
	ids.Forget(keep)
	return out
}

// overlapAuthority lets its first Issue wait (boundedly) until a second one is in flight, and
// records the most it saw at once: one-at-a-time issuance waits out the bound once and
// reports 1.
type overlapAuthority struct {
	ca.Authority
	inFlight, peak atomic.Int32
	waited         atomic.Bool
	overlap        chan struct{}
	once           sync.Once
}

func (a *overlapAuthority) Issue(ctx context.Context, req ca.IssueRequest) (ca.Issued, error) {
	n := a.inFlight.Add(1)
	defer a.inFlight.Add(-1)
	for p := a.peak.Load(); n > p && !a.peak.CompareAndSwap(p, n); p = a.peak.Load() {
	}
	if n >= 2 {
		a.once.Do(func() { close(a.overlap) })
	}
	if a.waited.CompareAndSwap(false, true) {
		select {
		case <-a.overlap:
		case <-time.After(3 * time.Second):
		}
	}
	return a.Authority.Issue(ctx, req)
}

// checkIdentities checks that every dataplane got a certificate of its own: its SPIFFE ID, its
// own key, chaining to the enabled backend's root and verifying against the bundle it is
// handed; no serial and no key twice.
func checkIdentities(t *testing.T, out rebuilt, mesh *model.Mesh, root string, at time.Time) map[string]string {
	t.Helper()
	serials, keys := map[string]string{}, map[string]string{}
	for n, dp := range mesh.Dataplanes {
		id := out.ids[dp.Name]
		require.NotNil(t, id, dp.Name)
		chain := chainOf(t, id)
		leaf := chain[0]
		require.Equal(t, fmt.Sprintf("spiffe://default/svc-%d", n), leaf.URIs[0].String(), dp.Name)
		key, err := certs.ParsePrivateKey([]byte(id.PrivateKey))
		require.NoError(t, err)
		require.NoError(t, certs.KeyMatches(leaf.PublicKey, key), "%s: the key handed out is the certificate's", dp.Name)
		require.Equal(t, root, issuerRoot(t, id), dp.Name)
		bundle, err := certs.ParseBundle("default", []byte(id.TrustBundle))
		require.NoError(t, err)
		_, err = certs.VerifySVID(chain, bundle, at)
		require.NoError(t, err, dp.Name)

		serial := leaf.SerialNumber.String()
		require.NotContains(t, serials, serial, "%s has the serial of %s", dp.Name, serials[serial])
		serials[serial] = dp.Name
		spki := string(leaf.RawSubjectPublicKeyInfo)
		require.NotContains(t, keys, spki, "%s has the key of %s", dp.Name, keys[spki])
		keys[spki] = dp.Name
	}
	return serials
}

// TestForAllIssuesDistinctCertificatesInParallel: ForAll signs side by side, every dataplane
// gets a correct certificate of its own, the cache and the store keep exactly what was handed
// out, and after a CA switch the whole mesh moves to the new backend the same way.
func TestForAllIssuesDistinctCertificatesInParallel(t *testing.T) {
	prev := runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0)))
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	const n = 40
	clk := newFakeClock()
	st := openTestStore(t, t.TempDir())
	// No rate limit, settle time or jitter: a switch makes every leaf due at once.
	ids := newTestIdentities(t, st, RotationOptions{}, clk)
	first := rotMesh(n, "ca-1", "ca-1", "ca-2")

	ids.SetModel(&model.Model{})
	v, err := ids.view(context.Background(), first)
	require.NoError(t, err)
	spy := &overlapAuthority{Authority: v.authority, overlap: make(chan struct{})}
	v.authority = spy
	ids.mu.Lock()
	ids.views[first.Name] = preparedView{gen: ids.gen, view: v}
	ids.mu.Unlock()
	issued := forAll(t, ids, first)
	assert.GreaterOrEqual(t, spy.peak.Load(), int32(2), "certificates are signed side by side")
	checkIdentities(t, issued, first, backendRootFP(t, ids, first, "ca-1"), clk.Now())

	// What was handed out is what is cached, and what was stored: For one by one, and a
	// control plane starting on the same store, serve the same certificates.
	again := rebuild(t, ids, first)
	restarted := rebuild(t, newTestIdentities(t, st, RotationOptions{}, clk), first)
	for _, dp := range first.Dataplanes {
		assert.Equal(t, issued.ids[dp.Name].CertificateChain, again.ids[dp.Name].CertificateChain, dp.Name)
		assert.Equal(t, issued.ids[dp.Name].PrivateKey, again.ids[dp.Name].PrivateKey, dp.Name)
		assert.Equal(t, issued.ids[dp.Name].CertificateChain, restarted.ids[dp.Name].CertificateChain, dp.Name)
	}

	// The switch: the mesh moves in one rebuild, every leaf new and from ca-2.
	switched := rotMesh(n, "ca-2", "ca-1", "ca-2")
	moved := rebuildAll(t, ids, switched)
	serials := checkIdentities(t, moved, switched, backendRootFP(t, ids, switched, "ca-2"), clk.Now())
	for _, dp := range first.Dataplanes {
		old := chainOf(t, issued.ids[dp.Name])[0].SerialNumber.String()
		assert.NotContains(t, serials, old, "%s was re-issued", dp.Name)
	}
}

// TestForAllKeepsTheRateLimit: after a switch, ForAll moves no more leaves per rebuild than the
// bucket allows, exactly as For one by one does, and wakes the rebuild when it is full again.
func TestForAllKeepsTheRateLimit(t *testing.T) {
	clk := newFakeClock()
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), noJitter(3, 3), clk)
	rebuildAll(t, ids, rotMesh(10, "ca-1", "ca-1", "ca-2"))
	switched := rotMesh(10, "ca-2", "ca-1", "ca-2")
	next := backendRootFP(t, ids, switched, "ca-2")
	after := rebuildAll(t, ids, switched)
	for name, id := range after.ids {
		assert.NotEqual(t, next, issuerRoot(t, id), "%s moved before the settle time", name)
	}
	clk.Advance(10 * time.Second)
	var counts []int
	for range 4 {
		out := rebuildAll(t, ids, switched)
		moved := 0
		for _, id := range out.ids {
			if issuerRoot(t, id) == next {
				moved++
			}
		}
		counts = append(counts, moved)
		if moved < 10 {
			assert.Equal(t, clk.Now().Add(time.Second), out.wake, "next batch when the bucket is full again")
		}
		clk.Advance(time.Second)
	}
	assert.Equal(t, []int{3, 6, 9, 10}, counts)
}

// TestForAllReportsErrorsPerDataplane: a dataplane whose identity cannot be had gets its error,
// in its place; the others their identities.
func TestForAllReportsErrorsPerDataplane(t *testing.T) {
	clk := newFakeClock()
	ids := newTestIdentities(t, openTestStore(t, t.TempDir()), RotationOptions{}, clk)
	good := rotMesh(3, "ca-1", "ca-1")
	bad := rotMesh(1, "ca-1", "ca-1")
	bad.Name, bad.Resource.Name = "broken", "broken"
	bad.Resource.Spec.MTLS.EnabledBackend = "missing"
	ids.SetModel(&model.Model{})
	res := ids.ForAll(context.Background(), []Request{
		{Mesh: good, Dataplane: good.Dataplanes[0]},
		{Mesh: bad, Dataplane: bad.Dataplanes[0]},
		{Mesh: good, Dataplane: good.Dataplanes[1]},
	})
	require.Len(t, res, 3)
	require.NoError(t, res[0].Err)
	require.NoError(t, res[2].Err)
	require.Error(t, res[1].Err)
	assert.Contains(t, res[1].Err.Error(), "broken")
	assert.NotEqual(t, res[0].Identity.CertificateChain, res[2].Identity.CertificateChain)
	assert.Empty(t, ids.ForAll(context.Background(), nil))
}
