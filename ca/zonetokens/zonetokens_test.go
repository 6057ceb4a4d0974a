package zonetokens

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store/sqlite"
)

func TestIssueVerifyRevoke(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	is := New(st, Options{Now: func() time.Time { return now }})

	tok, err := is.Issue(ctx, IssueRequest{Zone: "zone-1"})
	require.NoError(t, err)
	zone, err := is.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "zone-1", zone)

	// A second issuer on the same store (another replica) verifies it with the stored key.
	zone, err = New(st, Options{}).Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "zone-1", zone)

	_, err = is.Verify(ctx, tok+"x")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = is.Verify(ctx, "")
	require.ErrorIs(t, err, ErrMissing)
	_, err = is.Issue(ctx, IssueRequest{Zone: "Bad Zone"})
	require.ErrorIs(t, err, ErrBadRequest)

	id, err := ID(tok)
	require.NoError(t, err)
	require.NoError(t, is.Revoke(ctx, id))
	require.NoError(t, is.Revoke(ctx, id))
	_, err = is.Verify(ctx, tok)
	require.ErrorIs(t, err, ErrRevoked)

	short, err := is.Issue(ctx, IssueRequest{Zone: "zone-2", ValidFor: time.Minute})
	require.NoError(t, err)
	now = now.Add(2 * time.Minute)
	_, err = is.Verify(ctx, short)
	require.ErrorIs(t, err, ErrExpired)
}

// TestIngressTokensAreNotZoneTokens: an ingress token and a zone token on one store have their
// own keys and audiences; neither verifies as the other.
func TestIngressTokensAreNotZoneTokens(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	zones, ingresses := New(st, Options{}), New(st, Options{Ingress: true})

	itok, err := ingresses.Issue(ctx, IssueRequest{Zone: "ingress-1"})
	require.NoError(t, err)
	name, err := ingresses.Verify(ctx, itok)
	require.NoError(t, err)
	require.Equal(t, "ingress-1", name)
	_, err = zones.Verify(ctx, itok)
	require.ErrorIs(t, err, ErrInvalid, "an ingress token is not a zone token")

	ztok, err := zones.Issue(ctx, IssueRequest{Zone: "zone-1"})
	require.NoError(t, err)
	_, err = ingresses.Verify(ctx, ztok)
	require.ErrorIs(t, err, ErrInvalid, "a zone token is not an ingress token")

	id, err := ID(itok)
	require.NoError(t, err)
	require.NoError(t, ingresses.Revoke(ctx, id))
	_, err = ingresses.Verify(ctx, itok)
	require.ErrorIs(t, err, ErrRevoked)
}

// TestRevokeSubject: revoking a zone refuses its tokens, those issued before and after, and
// no other zone's.
func TestRevokeSubject(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	is := New(st, Options{})
	before, err := is.Issue(ctx, IssueRequest{Zone: "zone-1"})
	require.NoError(t, err)
	other, err := is.Issue(ctx, IssueRequest{Zone: "zone-2"})
	require.NoError(t, err)

	require.NoError(t, is.RevokeSubject(ctx, "zone-1"))
	require.NoError(t, is.RevokeSubject(ctx, "zone-1"), "revoking twice is not an error")
	_, err = is.Verify(ctx, before)
	require.ErrorIs(t, err, ErrRevoked)
	require.ErrorContains(t, err, "zone zone-1 was revoked")
	after, err := is.Issue(ctx, IssueRequest{Zone: "zone-1"})
	require.NoError(t, err)
	_, err = is.Verify(ctx, after)
	require.ErrorIs(t, err, ErrRevoked)
	zone, err := is.Verify(ctx, other)
	require.NoError(t, err)
	require.Equal(t, "zone-2", zone)
	require.ErrorIs(t, is.RevokeSubject(ctx, "Bad Zone"), ErrBadRequest)
}
