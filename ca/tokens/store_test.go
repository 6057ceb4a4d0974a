package tokens

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Keys live in the store: a control plane restarted on the same database accepts the tokens
// it issued before and keeps signing with the same key.
func TestKeysSurviveReopen(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	path := dbPath(t)
	s := openDB(t, path)
	tok := issue(t, newIssuer(s, c), "default", "gw", time.Hour)
	require.NoError(t, s.Close())

	is := newIssuer(openDB(t, path), c)
	require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw")))
	before, err := ParseUnverified(tok)
	require.NoError(t, err)
	after, err := ParseUnverified(issue(t, is, "default", "gw", time.Hour))
	require.NoError(t, err)
	assert.Equal(t, before.KeyID, after.KeyID)
}

// Two control planes on one database that issue their mesh's first token at the same moment
// end up with one key: each accepts the other's tokens.
func TestTwoIssuersAgreeOnTheKey(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	path := dbPath(t)
	for round := range 5 {
		mesh := []string{"m0", "m1", "m2", "m3", "m4"}[round]
		issuers := []*Issuer{newIssuer(openDB(t, path), c), newIssuer(openDB(t, path), c)}
		toks := make([]string, len(issuers))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, is := range issuers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var err error
				toks[i], err = is.Issue(ctx, IssueRequest{Mesh: mesh, Name: "gw"})
				assert.NoError(t, err)
			}()
		}
		close(start)
		wg.Wait()
		a, err := ParseUnverified(toks[0])
		require.NoError(t, err)
		b, err := ParseUnverified(toks[1])
		require.NoError(t, err)
		require.Equal(t, a.KeyID, b.KeyID, "round %d", round)
		for _, is := range issuers {
			for _, tok := range toks {
				require.NoError(t, verr(is.Verify(ctx, tok, mesh, "gw")))
			}
		}
	}
}

// A revocation made on one control plane reaches another within the revocation TTL; both
// writing revocations at once loses none.
func TestRevocationAcrossIssuers(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	path := dbPath(t)
	a, b := newIssuer(openDB(t, path), c), newIssuer(openDB(t, path), c)
	tok := issue(t, a, "default", "gw", time.Hour)
	info, err := ParseUnverified(tok)
	require.NoError(t, err)
	require.NoError(t, verr(b.Verify(ctx, tok, "default", "gw")))

	require.NoError(t, a.Revoke(ctx, "default", info.ID))
	require.NoError(t, verr(b.Verify(ctx, tok, "default", "gw")), "b's cached list is still fresh")
	c.advance(DefaultRevocationTTL)
	require.ErrorIs(t, verr(b.Verify(ctx, tok, "default", "gw")), ErrRevoked)

	var wg sync.WaitGroup
	ids := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"}
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, []*Issuer{a, b}[i%2].Revoke(ctx, "default", id))
		}()
	}
	wg.Wait()
	stored, _, err := a.revs.read(ctx, "default")
	require.NoError(t, err)
	var got []string
	for _, r := range stored.Revoked {
		got = append(got, r.ID)
	}
	assert.ElementsMatch(t, append(ids, info.ID), got)
}

// The connect path is cheap: once a mesh's keys and revocations are cached, verifying reads
// nothing from the store until the revocation list is due for a refresh.
func TestVerifyUsesTheCache(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cs := &countingStore{StateStore: openDB(t, dbPath(t))}
	is := newIssuer(cs, c)
	tok := issue(t, is, "default", "gw", time.Hour)
	require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw")))
	reads := cs.gets.Load()
	for range 100 {
		require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw")))
	}
	assert.Equal(t, reads, cs.gets.Load(), "store reads while cached")
	c.advance(DefaultRevocationTTL)
	require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw")))
	assert.Equal(t, reads+1, cs.gets.Load(), "one refresh of the revocation list")

	// Tokens naming unknown keys of a known mesh reload the keys at most once per interval.
	_, key, err := is.keys.signer(ctx, "default", time.Time{})
	require.NoError(t, err)
	reads = cs.gets.Load()
	for i := range 50 {
		forged := forge(t, jwt.SigningMethodES256, key, "forged-"+string(rune('a'+i%26)), validClaims(c.Now(), "default", "gw"))
		require.ErrorIs(t, verr(is.Verify(ctx, forged, "default", "gw")), ErrInvalid)
	}
	assert.LessOrEqual(t, cs.gets.Load()-reads, int64(1), "key reloads for unknown kids")
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	c := newClock()
	s := openDB(b, dbPath(b))
	is := newIssuer(s, c)
	tok, err := is.Issue(ctx, IssueRequest{Mesh: "default", Name: "gw"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := verr(is.Verify(ctx, tok, "default", "gw")); err != nil {
			b.Fatal(err)
		}
	}
}
