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
