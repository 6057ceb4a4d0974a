package tokens

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// meshTable is a MeshLookup whose meshes a test creates and deletes.
type meshTable struct {
	mu      sync.Mutex
	created map[string]time.Time
}

func newMeshTable(meshes ...string) *meshTable {
	m := &meshTable{created: map[string]time.Time{}}
	for _, name := range meshes {
		m.create(name, time.Now().Add(-time.Hour))
	}
	return m
}

func (m *meshTable) create(mesh string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.created[mesh] = at.UTC()
}

func (m *meshTable) remove(mesh string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.created, mesh)
}

func (m *meshTable) at(mesh string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.created[mesh]
}

func (m *meshTable) lookup(_ context.Context, mesh string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at, ok := m.created[mesh]; ok {
		return at, nil
	}
	return time.Time{}, fmt.Errorf("mesh %q: %w", mesh, ErrUnknownMesh)
}

func meshIssuer(s StateStore, c *clock, m *meshTable) *Issuer {
	return New(s, Options{Now: c.Now, Logger: quiet(), Meshes: m.lookup})
}

func tokenInfo(t *testing.T, tok string) Info {
	t.Helper()
	info, err := ParseUnverified(tok)
	require.NoError(t, err)
	return info
}

// Tokens are only issued (and revoked) for meshes that exist, and say so naming the mesh.
func TestTokensNeedAnExistingMesh(t *testing.T) {
	ctx := context.Background()
	s := openDB(t, dbPath(t))
	is := meshIssuer(s, newClock(), newMeshTable("default"))
	_, err := is.Issue(ctx, IssueRequest{Mesh: "nope", Name: "gw"})
	require.ErrorIs(t, err, ErrUnknownMesh)
	assert.ErrorContains(t, err, `mesh "nope" does not exist`)
	err = is.Revoke(ctx, "nope", "abc")
	require.ErrorIs(t, err, ErrUnknownMesh)
	// Nothing was created for the mesh that does not exist.
	_, _, err = s.GetState(ctx, signingKeyState("nope"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.GetState(ctx, revocationsState("nope"))
	require.ErrorIs(t, err, store.ErrNotFound)
	issue(t, is, "default", "gw", time.Hour)
}

// A mesh deleted and created again under the same name is a new mesh: the first one's tokens
// are refused, on this control plane and on another that still caches the old key, and its
// first token gets a new key, even though nobody deleted the old one.
func TestRecreatedMeshRefusesTheOldTokens(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	meshes := newMeshTable("default")
	path := dbPath(t)
	a, b := meshIssuer(openDB(t, path), c, meshes), meshIssuer(openDB(t, path), c, meshes)
	old := issue(t, a, "default", "gw", time.Hour)
	_, err := b.Verify(ctx, old, "default", "gw") // b caches the key
	require.NoError(t, err)
	assert.Equal(t, meshes.at("default").UnixNano(), tokenInfo(t, old).MeshCreated.UnixNano())

	meshes.remove("default")
	_, err = b.Verify(ctx, old, "default", "gw")
	require.ErrorIs(t, err, ErrInvalid, "a deleted mesh's token is refused at once")
	assert.ErrorContains(t, err, `mesh "default" does not exist any more`)

	meshes.create("default", c.Now())
	for _, is := range []*Issuer{a, b} {
		_, err := is.Verify(ctx, old, "default", "gw")
		require.ErrorIs(t, err, ErrInvalid)
		assert.ErrorContains(t, err, `issued in an earlier mesh named "default"`)
	}
	fresh := issue(t, b, "default", "gw", time.Hour)
	assert.NotEqual(t, tokenInfo(t, old).KeyID, tokenInfo(t, fresh).KeyID, "the new mesh has a new key")
	for _, is := range []*Issuer{a, b} {
		_, err := is.Verify(ctx, fresh, "default", "gw")
		require.NoError(t, err)
		_, err = is.Verify(ctx, old, "default", "gw")
		require.ErrorIs(t, err, ErrInvalid)
	}
	// The old key is gone from the store: a token signed with it names an unknown key.
	var stored storedKeys
	raw, _, err := openDB(t, path).GetState(ctx, signingKeyState("default"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Len(t, stored.Keys, 1)
	assert.Equal(t, tokenInfo(t, fresh).KeyID, stored.Keys[0].ID)
	assert.True(t, stored.MeshCreated.Equal(meshes.at("default")))
}

// Keys stored before incarnations were recorded are kept by the mesh they were made for (made
// after it) and claimed for it; a mesh created after them replaces them.
func TestLegacyKeys(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := openDB(t, dbPath(t))
	plain := newIssuer(s, c) // no MeshLookup: writes unstamped keys, as earlier versions did
	legacy := issue(t, plain, "kept", "gw", time.Hour)
	issue(t, plain, "replaced", "gw", time.Hour)

	meshes := newMeshTable()
	meshes.create("kept", c.Now().Add(-time.Hour))
	meshes.create("replaced", c.Now().Add(legacySlack+time.Minute))
	is := meshIssuer(s, c, meshes)
	_, err := is.Verify(ctx, legacy, "kept", "gw")
	require.NoError(t, err, "a token of the mesh its key was made in")
	assert.Equal(t, tokenInfo(t, legacy).KeyID, tokenInfo(t, issue(t, is, "kept", "gw", time.Hour)).KeyID)
	raw, _, err := s.GetState(ctx, signingKeyState("kept"))
	require.NoError(t, err)
	var stored storedKeys
	require.NoError(t, json.Unmarshal(raw, &stored))
	assert.True(t, stored.MeshCreated.Equal(meshes.at("kept")), "claimed for the mesh")

	other := issue(t, plain, "replaced", "gw", time.Hour)
	_, err = is.Verify(ctx, other, "replaced", "gw")
	require.ErrorIs(t, err, ErrInvalid, "the key predates the mesh")
	assert.NotEqual(t, tokenInfo(t, other).KeyID, tokenInfo(t, issue(t, is, "replaced", "gw", time.Hour)).KeyID)
}

// Recheck re-judges an accepted token from the caches: a revocation made elsewhere, or the
// deletion of its mesh, shows within the revocation TTL.
func TestRecheck(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	meshes := newMeshTable("default", "other")
	path := dbPath(t)
	a, b := meshIssuer(openDB(t, path), c, meshes), meshIssuer(openDB(t, path), c, meshes)
	tok := issue(t, a, "default", "gw", time.Hour)
	keep := issue(t, a, "other", "gw", time.Hour)
	info, err := b.Verify(ctx, tok, "default", "gw")
	require.NoError(t, err)
	keepInfo, err := b.Verify(ctx, keep, "other", "gw")
	require.NoError(t, err)
	require.NoError(t, b.Recheck(ctx, info))

	require.NoError(t, a.Revoke(ctx, "default", info.ID))
	require.ErrorIs(t, a.Recheck(ctx, info), ErrRevoked, "the revoking control plane knows at once")
	require.NoError(t, b.Recheck(ctx, info), "b's cache is fresh")
	c.advance(DefaultRevocationTTL)
	require.ErrorIs(t, b.Recheck(ctx, info), ErrRevoked)

	require.NoError(t, b.Recheck(ctx, keepInfo)) // refreshes b's view of mesh other
	meshes.remove("other")
	require.NoError(t, b.Recheck(ctx, keepInfo), "b's cache is fresh")
	c.advance(DefaultRevocationTTL)
	err = b.Recheck(ctx, keepInfo)
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "does not exist any more")
}

// DeleteMesh deletes a mesh incarnation's keys and revocations, and leaves a later mesh's.
func TestDeleteMesh(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	meshes := newMeshTable("default")
	s := openDB(t, dbPath(t))
	is := meshIssuer(s, c, meshes)
	first := meshes.at("default")
	tok := issue(t, is, "default", "gw", time.Hour)
	require.NoError(t, is.Revoke(ctx, "default", tokenInfo(t, tok).ID))

	// Re-created and used before the first one was cleaned up.
	meshes.create("default", c.Now())
	fresh := issue(t, is, "default", "gw", time.Hour)
	require.NoError(t, is.DeleteMesh(ctx, "default", first))
	_, err := is.Verify(ctx, fresh, "default", "gw")
	require.NoError(t, err, "the later mesh's key survives")

	require.NoError(t, is.DeleteMesh(ctx, "default", meshes.at("default")))
	for _, key := range []string{signingKeyState("default"), revocationsState("default")} {
		_, _, err := s.GetState(ctx, key)
		require.ErrorIs(t, err, store.ErrNotFound, key)
	}
	_, err = is.Verify(ctx, fresh, "default", "gw")
	require.ErrorIs(t, err, ErrInvalid)
	require.NoError(t, is.DeleteMesh(ctx, "default", meshes.at("default")), "deleting again is fine")
}

// Revocations of tokens that have expired anyway are dropped when the list is next written;
// revocations of ids that state no expiry (tokens from before ids did) stay.
func TestRevocationsArePruned(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := openDB(t, dbPath(t))
	is := meshIssuer(s, c, newMeshTable("default"))
	short := tokenInfo(t, issue(t, is, "default", "gw", time.Hour))
	long := tokenInfo(t, issue(t, is, "default", "gw", 30*24*time.Hour))
	const legacyID = "0123456789abcdef0123456789abcdef"
	for _, id := range []string{short.ID, long.ID, legacyID} {
		require.NoError(t, is.Revoke(ctx, "default", id))
	}
	revoked := func() []string {
		stored, _, err := is.revs.read(ctx, "default")
		require.NoError(t, err)
		var ids []string
		for _, r := range stored.Revoked {
			ids = append(ids, r.ID)
		}
		return ids
	}
	require.ElementsMatch(t, []string{short.ID, long.ID, legacyID}, revoked())

	c.advance(time.Hour + pruneGrace - time.Minute)
	require.NoError(t, is.Revoke(ctx, "default", "a"))
	assert.Contains(t, revoked(), short.ID, "kept for a grace period past its expiry")

	c.advance(2 * time.Minute)
	require.NoError(t, is.Revoke(ctx, "default", "b"))
	assert.ElementsMatch(t, []string{long.ID, legacyID, "a", "b"}, revoked())
}

// A token whose id states another expiry than its exp claim is not one this issuer made.
func TestTokenIDMustMatchExpiry(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	is := newIssuer(openDB(t, dbPath(t)), c)
	issue(t, is, "default", "gw", time.Hour)
	kid, key, err := is.keys.signer(ctx, "default", time.Time{})
	require.NoError(t, err)
	cl := validClaims(c.Now(), "default", "gw")
	cl.ID = tokenID("0123456789abcdef0123456789abcdef", c.Now().Add(10*time.Hour))
	_, err = is.Verify(ctx, forge(t, jwt.SigningMethodES256, key, kid, cl), "default", "gw")
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "does not match its expiry")
}

// Kuma's default mesh exists without a Mesh resource. Storing a Mesh of that name configures
// the same mesh (its tokens stay valid); deleting that resource again is a deletion.
func TestImplicitMeshAdoptedThenDeleted(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	meshes := newMeshTable()
	meshes.create("default", ImplicitMesh)
	is := meshIssuer(openDB(t, dbPath(t)), c, meshes)
	implicit := issue(t, is, "default", "gw", time.Hour)

	meshes.create("default", c.Now())
	_, err := is.Verify(ctx, implicit, "default", "gw")
	require.NoError(t, err, "the stored Mesh is the same mesh")
	explicit := issue(t, is, "default", "gw", time.Hour)
	assert.Equal(t, tokenInfo(t, implicit).KeyID, tokenInfo(t, explicit).KeyID)

	meshes.create("default", ImplicitMesh) // the Mesh resource deleted
	for _, tok := range []string{implicit, explicit} {
		_, err := is.Verify(ctx, tok, "default", "gw")
		require.ErrorIs(t, err, ErrInvalid)
	}
	fresh := issue(t, is, "default", "gw", time.Hour)
	assert.NotEqual(t, tokenInfo(t, implicit).KeyID, tokenInfo(t, fresh).KeyID)
}

// Epoch moves when a mesh's revocations or incarnation do, as seen through caches no older
// than maxAge.
func TestEpoch(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	meshes := newMeshTable("default")
	path := dbPath(t)
	a, b := meshIssuer(openDB(t, path), c, meshes), meshIssuer(openDB(t, path), c, meshes)
	e0, err := b.Epoch(ctx, "default", time.Second)
	require.NoError(t, err)
	require.NoError(t, a.Revoke(ctx, "default", "x"))
	e1, err := b.Epoch(ctx, "default", time.Second)
	require.NoError(t, err)
	assert.Equal(t, e0, e1, "b's caches are younger than maxAge")
	c.advance(time.Second)
	e2, err := b.Epoch(ctx, "default", time.Second)
	require.NoError(t, err)
	assert.NotEqual(t, e1, e2, "the revocation shows")
	meshes.create("default", c.Now())
	c.advance(time.Second)
	e3, err := b.Epoch(ctx, "default", time.Second)
	require.NoError(t, err)
	assert.NotEqual(t, e2, e3, "the re-creation shows")
}
