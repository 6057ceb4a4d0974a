// Package tokens issues and verifies dataplane tokens: JWTs (ES256) that a dataplane presents
// on its xDS stream to prove which dataplane it is. Each mesh has its own signing keys, created
// on first use and kept in the store, so every control plane sharing the store issues and
// accepts the same tokens; revoked token ids are kept in the store too.
package tokens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// DefaultValidFor is a token's life when the request names none. A token is needed at every
	// reconnect, so an expiring one takes its dataplane offline at the next reconnect after it
	// expires; a year keeps that a yearly, planned event while bounding how long a leaked token
	// that nobody revoked stays useful.
	DefaultValidFor = 365 * 24 * time.Hour
	// MaxValidFor caps requests at ten years (Kuma's default), so that no token is forever.
	MaxValidFor = 10 * 365 * 24 * time.Hour

	// DefaultRevocationTTL bounds how long a revocation made on another control plane takes
	// to be enforced here.
	DefaultRevocationTTL = 5 * time.Second
	// keyReloadEvery bounds store reads caused by tokens naming keys this process does not know.
	keyReloadEvery = time.Second
)

// StateStore is the part of store.Store the issuer needs.
type StateStore interface {
	GetState(ctx context.Context, key string) (value []byte, version int64, err error)
	PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (version int64, err error)
}

// Options configure an Issuer; the zero value is usable.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RevocationTTL is how long a mesh's revocation list is cached; 0 means
	// DefaultRevocationTTL.
	RevocationTTL time.Duration
	// Logger records issuance and revocation, for audit; nil means slog.Default().
	Logger *slog.Logger
}

// Issuer issues, verifies and revokes dataplane tokens. It is safe for concurrent use.
type Issuer struct {
	now    func() time.Time
	log    *slog.Logger
	keys   *keyCache
	revs   *revocations
	parser *jwt.Parser
}

// New returns an issuer over s.
func New(s StateStore, opts Options) *Issuer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RevocationTTL <= 0 {
		opts.RevocationTTL = DefaultRevocationTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Issuer{
		now:  opts.Now,
		log:  opts.Logger,
		keys: newKeyCache(s, opts.Now, keyReloadEvery),
		revs: newRevocations(s, opts.Now, opts.RevocationTTL),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithAudience(Audience),
			jwt.WithTimeFunc(opts.Now),
		),
	}
}

// IssueRequest names the dataplane a token is for.
type IssueRequest struct {
	Mesh string
	Name string
	// ValidFor is the token's life; 0 means DefaultValidFor.
	ValidFor time.Duration
}

// Issue signs a token for one dataplane with its mesh's current key, creating the mesh's key
// if this is the mesh's first token.
func (is *Issuer) Issue(ctx context.Context, req IssueRequest) (string, error) {
	if err := checkMesh(req.Mesh); err != nil {
		return "", err
	}
	if err := checkName(req.Name); err != nil {
		return "", err
	}
	if req.ValidFor == 0 {
		req.ValidFor = DefaultValidFor
	}
	if req.ValidFor < time.Second || req.ValidFor > MaxValidFor {
		return "", fmt.Errorf("%w: validity %s is out of range [1s, %s]", ErrBadRequest, req.ValidFor, MaxValidFor)
	}
	kid, key, err := is.keys.signer(ctx, req.Mesh)
	if err != nil {
		return "", err
	}
	id, err := newTokenID()
	if err != nil {
		return "", err
	}
	now := is.now()
	c := claims{Mesh: req.Mesh, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   req.Name,
		Audience:  jwt.ClaimStrings{Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(req.ValidFor)),
		ID:        id,
	}}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = kid
	signed, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("signing a token for dataplane %s/%s: %w", req.Mesh, req.Name, err)
	}
	is.log.Info("issued dataplane token", "mesh", req.Mesh, "dataplane", req.Name, "id", id, "key", kid,
		"expires", c.ExpiresAt.Time.UTC().Format(time.RFC3339))
	return signed, nil
}

// Verify checks that token is a current token of mesh for dataplane name. Its errors wrap
// ErrMissing, ErrInvalid, ErrExpired, ErrRevoked or ErrWrongDataplane; any other error means
// the token could not be checked. Checks run signature first, so only a genuine token is
// ever reported as expired, revoked or for another dataplane.
func (is *Issuer) Verify(ctx context.Context, token, mesh, name string) error {
	if token == "" {
		return ErrMissing
	}
	var c claims
	// The key lookup's own error says more than the parser's wrapping of it, and a store
	// failure in it must stay a store failure.
	var lookupErr error
	_, err := is.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		key, err := is.lookup(ctx, t)
		lookupErr = err
		return key, err
	})
	if lookupErr != nil {
		return lookupErr
	}
	if err != nil {
		return classify(err, &c)
	}
	if c.Subject == "" || c.ID == "" {
		return fmt.Errorf("%w: the token lacks its dataplane name (sub) or id (jti)", ErrInvalid)
	}
	revoked, err := is.revs.isRevoked(ctx, c.Mesh, c.ID)
	if err != nil {
		return err
	}
	if revoked {
		return fmt.Errorf("%w: token %s of dataplane %s/%s was revoked; issue a new one", ErrRevoked, c.ID, c.Mesh, c.Subject)
	}
	if c.Mesh != mesh || c.Subject != name {
		return fmt.Errorf("%w: the token is for dataplane %s/%s, not %s/%s", ErrWrongDataplane, c.Mesh, c.Subject, mesh, name)
	}
	return nil
}

// lookup finds the key a token claims to be signed with. The claimed mesh picks the key: a
// genuine token of another mesh verifies, and is then refused as a token for another
// dataplane rather than as a forgery.
func (is *Issuer) lookup(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("%w: the token names no signing key (kid)", ErrInvalid)
	}
	c, _ := t.Claims.(*claims)
	if c == nil || c.Mesh == "" {
		return nil, fmt.Errorf("%w: the token names no mesh", ErrInvalid)
	}
	if err := checkMesh(c.Mesh); err != nil {
		return nil, fmt.Errorf("%w: the token's mesh %q is not a mesh name", ErrInvalid, c.Mesh)
	}
	return is.keys.verifier(ctx, c.Mesh, kid)
}

// classify turns the parser's verdict on a token into one of the package's errors.
func classify(err error, c *claims) error {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired) && c.ExpiresAt != nil:
		return fmt.Errorf("%w at %s (dataplane %s/%s); issue a new one", ErrExpired,
			c.ExpiresAt.UTC().Format(time.RFC3339), c.Mesh, c.Subject)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: malformed: %v", ErrInvalid, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("%w: the signature does not verify (%v)", ErrInvalid, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fmt.Errorf("%w: not a dataplane token (audience is not %q)", ErrInvalid, Audience)
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}

// Revoke puts a token id on its mesh's revocation list: every control plane on the store
// refuses the token from then on (this one at once, others within their revocation TTL).
// Streams already open stay open until they reconnect.
func (is *Issuer) Revoke(ctx context.Context, mesh, id string) error {
	if err := checkMesh(mesh); err != nil {
		return err
	}
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: token id must be 1 to 128 characters", ErrBadRequest)
	}
	added, err := is.revs.revoke(ctx, mesh, id)
	if err != nil {
		return err
	}
	is.log.Info("revoked dataplane token", "mesh", mesh, "id", id, "already", !added)
	return nil
}

// newTokenID is 128 random bits: unguessable, so a revocation names exactly one token.
func newTokenID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a token id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
