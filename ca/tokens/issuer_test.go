package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIssueAndVerify(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	is := newIssuer(openDB(t, dbPath(t)), c)
	tok := issue(t, is, "default", "gw-1", 24*time.Hour)
	require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw-1")))

	info, err := ParseUnverified(tok)
	require.NoError(t, err)
	assert.Equal(t, "default", info.Mesh)
	assert.Equal(t, "gw-1", info.Name)
	assert.Regexp(t, `^[0-9a-f]{32}-[0-9]+$`, info.ID, "jti is 128 random bits in hex, then the expiry")
	exp, ok := idExpiry(info.ID)
	require.True(t, ok)
	assert.Equal(t, info.ExpiresAt.Unix(), exp.Unix())
	assert.NotEmpty(t, info.KeyID)
	assert.Equal(t, 24*time.Hour, info.ExpiresAt.Sub(info.IssuedAt))
	assert.WithinDuration(t, c.Now(), info.IssuedAt, time.Second)

	var cl claims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &cl)
	require.NoError(t, err)
	assert.Equal(t, "ES256", parsed.Header["alg"])
	assert.Equal(t, jwt.ClaimStrings{Audience}, cl.Audience)

	// Every token has its own id; the mesh keeps one key.
	tok2 := issue(t, is, "default", "gw-1", 0)
	info2, err := ParseUnverified(tok2)
	require.NoError(t, err)
	assert.NotEqual(t, info.ID, info2.ID)
	assert.Equal(t, info.KeyID, info2.KeyID)
	assert.Equal(t, DefaultValidFor, info2.ExpiresAt.Sub(info2.IssuedAt))

	// Another mesh has another key.
	info3, err := ParseUnverified(issue(t, is, "other", "gw-1", 0))
	require.NoError(t, err)
	assert.NotEqual(t, info.KeyID, info3.KeyID)
}

func TestIssueRejectsBadRequests(t *testing.T) {
	is := newIssuer(openDB(t, dbPath(t)), newClock())
	cases := []struct {
		req  IssueRequest
		want string
	}{
		{IssueRequest{Name: "gw"}, "mesh is empty"},
		{IssueRequest{Mesh: "default"}, "dataplane name is empty"},
		{IssueRequest{Mesh: "a.b", Name: "gw"}, "no '.'"},
		{IssueRequest{Mesh: "Default", Name: "gw"}, "only lowercase"},
		{IssueRequest{Mesh: "default", Name: "GW"}, "RFC 1123"},
		{IssueRequest{Mesh: "default", Name: "gw", ValidFor: -time.Hour}, "out of range"},
		{IssueRequest{Mesh: "default", Name: "gw", ValidFor: time.Millisecond}, "out of range"},
		{IssueRequest{Mesh: "default", Name: "gw", ValidFor: MaxValidFor + time.Hour}, "out of range"},
	}
	for _, tc := range cases {
		_, err := is.Issue(context.Background(), tc.req)
		require.ErrorIs(t, err, ErrBadRequest, "%+v", tc.req)
		assert.ErrorContains(t, err, tc.want)
	}
}

// forge signs arbitrary claims with key, as an attacker (or a bug) would.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func validClaims(now time.Time, mesh, name string) *claims {
	return &claims{Mesh: mesh, RegisteredClaims: jwt.RegisteredClaims{
		Subject: name, ID: "0123456789abcdef0123456789abcdef", Audience: jwt.ClaimStrings{Audience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
}

func TestVerifyRefuses(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := openDB(t, dbPath(t))
	is := newIssuer(s, c)
	good := issue(t, is, "default", "gw", time.Hour)
	issue(t, is, "other", "gw", time.Hour) // mesh other has a key too
	kid, key, err := is.keys.signer(ctx, "default", time.Time{})
	require.NoError(t, err)
	strangerKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	// A token from a control plane with its own store: its key is not this mesh's.
	foreign := issue(t, newIssuer(openDB(t, dbPath(t)), c), "default", "gw", time.Hour)
	parts := strings.Split(good, ".")
	// Same header and signature, body edited to name another dataplane.
	otherBody := validClaims(c.Now(), "default", "other-gw")
	edited := forge(t, jwt.SigningMethodES256, key, kid, otherBody)
	tampered := parts[0] + "." + strings.Split(edited, ".")[1] + "." + parts[2]
	badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))

	wrongAud := validClaims(c.Now(), "default", "gw")
	wrongAud.Audience = jwt.ClaimStrings{"something-else"}
	noExp := validClaims(c.Now(), "default", "gw")
	noExp.ExpiresAt = nil

	cases := []struct {
		name, token string
		want        error
		msg         string
	}{
		{"empty", "", ErrMissing, "no dataplane token"},
		{"garbage", "not-a-jwt", ErrInvalid, "malformed"},
		{"bad signature", badSig, ErrInvalid, "signature does not verify"},
		{"edited body", tampered, ErrInvalid, "signature does not verify"},
		{"foreign key", foreign, ErrInvalid, "not a signing key of mesh \"default\""},
		{"stranger's key under our kid", forge(t, jwt.SigningMethodES256, strangerKey, kid, validClaims(c.Now(), "default", "gw")), ErrInvalid, "signature does not verify"},
		{"alg none", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, validClaims(c.Now(), "default", "gw")), ErrInvalid, "signing method none is invalid"},
		{"HS256 keyed with the kid", forge(t, jwt.SigningMethodHS256, []byte(kid), kid, validClaims(c.Now(), "default", "gw")), ErrInvalid, "signing method HS256 is invalid"},
		{"no kid", forge(t, jwt.SigningMethodES256, key, "", validClaims(c.Now(), "default", "gw")), ErrInvalid, "names no signing key"},
		{"no mesh", forge(t, jwt.SigningMethodES256, key, kid, validClaims(c.Now(), "", "gw")), ErrInvalid, "names no mesh"},
		{"mesh without keys", forge(t, jwt.SigningMethodES256, key, kid, validClaims(c.Now(), "nokeys", "gw")), ErrInvalid, "has no token signing key"},
		{"wrong audience", forge(t, jwt.SigningMethodES256, key, kid, wrongAud), ErrInvalid, "not a dataplane token"},
		{"no expiry", forge(t, jwt.SigningMethodES256, key, kid, noExp), ErrInvalid, "exp"},
		{"another dataplane", issue(t, is, "default", "gw-2", time.Hour), ErrWrongDataplane, "is for dataplane default/gw-2, not default/gw"},
		{"another mesh", issue(t, is, "other", "gw", time.Hour), ErrWrongDataplane, "is for dataplane other/gw, not default/gw"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verr(is.Verify(ctx, tc.token, "default", "gw"))
			require.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
	// Verifying never creates keys, whatever mesh a token names.
	_, _, err = s.GetState(ctx, signingKeyState("nokeys"))
	require.Error(t, err)
	require.NoError(t, verr(is.Verify(ctx, good, "default", "gw")))
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	is := newIssuer(openDB(t, dbPath(t)), c)
	tok := issue(t, is, "default", "gw", time.Hour)
	c.advance(59 * time.Minute)
	require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw")))
	c.advance(2 * time.Minute)
	err := verr(is.Verify(ctx, tok, "default", "gw"))
	require.ErrorIs(t, err, ErrExpired)
	assert.ErrorContains(t, err, "dataplane default/gw")
	assert.ErrorContains(t, err, "issue a new one")
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	is := newIssuer(openDB(t, dbPath(t)), c)
	tok := issue(t, is, "default", "gw", time.Hour)
	keep := issue(t, is, "default", "gw", time.Hour)
	info, err := ParseUnverified(tok)
	require.NoError(t, err)
	require.NoError(t, verr(is.Verify(ctx, tok, "default", "gw"))) // caches the (empty) list

	require.NoError(t, is.Revoke(ctx, "default", info.ID))
	err = verr(is.Verify(ctx, tok, "default", "gw"))
	require.ErrorIs(t, err, ErrRevoked, "this issuer sees its own revocation at once")
	assert.ErrorContains(t, err, info.ID)
	require.NoError(t, verr(is.Verify(ctx, keep, "default", "gw")), "only the revoked token is refused")

	require.NoError(t, is.Revoke(ctx, "default", info.ID), "revoking twice is fine")
	require.ErrorIs(t, is.Revoke(ctx, "default", ""), ErrBadRequest)
	require.ErrorIs(t, is.Revoke(ctx, "a.b", info.ID), ErrBadRequest)

	// Revocation is per mesh: the same id revoked in another mesh does not touch this one.
	require.NoError(t, is.Revoke(ctx, "other", "feed"))
	require.NoError(t, verr(is.Verify(ctx, keep, "default", "gw")))
}

// Expired wins over revoked and over the wrong dataplane: the most useful message first, and
// none of those checks runs for a token whose signature failed.
func TestCheckOrder(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	is := newIssuer(openDB(t, dbPath(t)), c)
	tok := issue(t, is, "default", "gw", time.Hour)
	info, err := ParseUnverified(tok)
	require.NoError(t, err)
	require.NoError(t, is.Revoke(ctx, "default", info.ID))
	require.ErrorIs(t, verr(is.Verify(ctx, tok, "default", "other")), ErrRevoked)
	c.advance(2 * time.Hour)
	require.ErrorIs(t, verr(is.Verify(ctx, tok, "default", "other")), ErrExpired)
}

func TestStoreFailureIsNotAVerdict(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cs := &countingStore{StateStore: openDB(t, dbPath(t))}
	tok := issue(t, newIssuer(cs, c), "default", "gw", time.Hour)
	cs.fail.Store(true)
	// A fresh issuer has nothing cached, so it must read the store and cannot.
	_, err := newIssuer(cs, c).Verify(ctx, tok, "default", "gw")
	require.ErrorIs(t, err, errStoreDown)
	for _, verdict := range []error{ErrMissing, ErrInvalid, ErrExpired, ErrRevoked, ErrWrongDataplane} {
		assert.NotErrorIs(t, err, verdict)
	}
	_, err = newIssuer(cs, c).Issue(ctx, IssueRequest{Mesh: "default", Name: "gw"})
	require.ErrorIs(t, err, errStoreDown)
}
