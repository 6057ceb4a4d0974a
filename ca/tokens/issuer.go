// Package tokens issues and verifies dataplane tokens: JWTs (ES256) that a dataplane presents
// on its xDS stream to prove which dataplane it is. Each mesh has its own signing keys, created
// on first use and kept in the store, so every control plane sharing the store issues and
// accepts the same tokens; revoked token ids are kept in the store too.
//
// Keys and revocations belong to one incarnation of a mesh (its creation time, see
// MeshLookup): a mesh deleted and created again under the same name gets new keys, and the
// first mesh's tokens are refused even before anyone has deleted its keys (DeleteMesh).
package tokens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/meshgate/meshgate/store"
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
	DeleteState(ctx context.Context, key string, expectedVersion int64) error
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
	// Meshes says which meshes exist and since when. Nil treats every mesh as existing, with
	// an unknown creation time: tokens are then not bound to a mesh's incarnation.
	Meshes MeshLookup
	// Pruner is the store a revocation list write that prunes expired revocations goes
	// through. Among replicas it is fenced by the singleton lease (store.Fenced), so only the
	// lease holder prunes; a write it refuses (store.ErrFenced) is made again through the
	// issuer's store without pruning, so a revocation never waits for the lease. Nil: the
	// issuer's store, which always prunes.
	Pruner StateStore
}

// Issuer issues, verifies and revokes dataplane tokens. It is safe for concurrent use.
type Issuer struct {
	now    func() time.Time
	log    *slog.Logger
	store  StateStore
	keys   *keyCache
	revs   *revocations
	meshes *incarnations
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
		now:    opts.Now,
		log:    opts.Logger,
		store:  s,
		keys:   newKeyCache(s, opts.Now, keyReloadEvery),
		revs:   newRevocations(s, opts.Pruner, opts.Now, opts.RevocationTTL),
		meshes: newIncarnations(opts.Meshes, opts.Now, opts.RevocationTTL),
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
// if this is the first token of this incarnation of the mesh. The mesh must exist
// (ErrUnknownMesh otherwise).
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
	mesh, err := is.meshes.exists(ctx, req.Mesh)
	if err != nil {
		return "", err
	}
	if mesh.gone {
		return "", unknownMesh(req.Mesh)
	}
	kid, key, err := is.keys.signer(ctx, req.Mesh, mesh.created)
	if err != nil {
		return "", err
	}
	now := is.now()
	expires := jwt.NewNumericDate(now.Add(req.ValidFor))
	id, err := newTokenID(expires.Time)
	if err != nil {
		return "", err
	}
	c := claims{Mesh: req.Mesh, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   req.Name,
		Audience:  jwt.ClaimStrings{Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: expires,
		ID:        id,
	}}
	if !mesh.created.IsZero() {
		c.Incarnation = mesh.created.UnixNano()
	}
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

// Verify checks that token is a current token of mesh for dataplane name, and returns what it
// says (for Recheck later). Its errors wrap ErrMissing, ErrInvalid, ErrExpired, ErrRevoked or
// ErrWrongDataplane; any other error means the token could not be checked. Checks run
// signature first, so only a genuine token is ever reported as expired, revoked, of a deleted
// mesh or for another dataplane.
func (is *Issuer) Verify(ctx context.Context, token, mesh, name string) (Info, error) {
	if token == "" {
		return Info{}, ErrMissing
	}
	var c claims
	// The key lookup's own error says more than the parser's wrapping of it, and a store
	// failure in it must stay a store failure.
	var lookupErr error
	var ring *keyRing
	t, err := is.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		key, r, err := is.lookup(ctx, t)
		lookupErr, ring = err, r
		return key, err
	})
	if lookupErr != nil {
		return Info{}, lookupErr
	}
	if err != nil {
		return Info{}, classify(err, &c)
	}
	if c.Subject == "" || c.ID == "" {
		return Info{}, fmt.Errorf("%w: the token lacks its dataplane name (sub) or id (jti)", ErrInvalid)
	}
	if exp, ok := idExpiry(c.ID); ok && exp.Unix() != c.ExpiresAt.Unix() {
		return Info{}, fmt.Errorf("%w: the token's id does not match its expiry", ErrInvalid)
	}
	kid, _ := t.Header["kid"].(string)
	info := infoOf(&c, kid)
	if err := is.current(ctx, info, ring, true); err != nil {
		return Info{}, err
	}
	if c.Mesh != mesh || c.Subject != name {
		return Info{}, fmt.Errorf("%w: the token is for dataplane %s/%s, not %s/%s", ErrWrongDataplane, c.Mesh, c.Subject, mesh, name)
	}
	return info, nil
}

// Recheck tells whether a token Verify accepted earlier (info is what it returned) would still
// be accepted, apart from its expiry: its mesh still exists, is the same incarnation, and the
// token is not revoked. Unlike Verify, which asks afresh whether the mesh exists, it relies on
// what is cached for up to the revocation TTL, so a control plane can re-check every open
// stream every TTL for a few store reads per mesh.
func (is *Issuer) Recheck(ctx context.Context, info Info) error {
	ring := is.keys.cached(info.Mesh)
	if ring == nil || ring.byID[info.KeyID] == nil {
		var err error
		if _, ring, err = is.keys.ringFor(ctx, info.Mesh, info.KeyID); err != nil {
			return err
		}
	}
	return is.current(ctx, info, ring, false)
}

// Epoch is a value that changes whenever what Recheck says about the tokens of a mesh may
// have changed: the mesh was deleted or re-created, or its revocation list was written. It
// reads through the caches Recheck uses, refreshing what is older than maxAge (at most the
// revocation TTL), so a control plane can poll it often and re-check a mesh's streams only
// when it moves: polling every p with maxAge TTL-p sees another control plane's revocation
// within the TTL.
func (is *Issuer) Epoch(ctx context.Context, mesh string, maxAge time.Duration) (string, error) {
	if maxAge <= 0 || maxAge > is.revs.ttl {
		maxAge = is.revs.ttl
	}
	st, err := is.meshes.within(ctx, mesh, maxAge)
	if err != nil {
		return "", err
	}
	l, err := is.revs.within(ctx, mesh, maxAge)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%t/%d/%d/%d", st.gone, st.created.UnixNano(), l.meshCreated.UnixNano(), l.version), nil
}

// current checks a genuine token against what its mesh is now: it must exist, be the
// incarnation the token (and the key that signed it) belong to, and not have revoked it.
// fresh asks whether the mesh exists afresh instead of from the cache: a connecting stream
// pays one store read (only genuine tokens get here), so that a mesh deleted or re-created a
// moment ago refuses the old tokens at once.
func (is *Issuer) current(ctx context.Context, info Info, ring *keyRing, fresh bool) error {
	mesh, err := is.meshes.current(ctx, info.Mesh, fresh)
	if err != nil {
		return err
	}
	stale := func() bool {
		return mesh.gone || !ring.of(mesh.created) ||
			(!info.MeshCreated.IsZero() && !sameMesh(info.MeshCreated, mesh.created))
	}
	if stale() && !fresh && is.now().Sub(mesh.fetched) >= keyReloadEvery {
		// The cached view may be the stale one (the mesh was re-created on another control
		// plane): ask again, at most once per interval, since only genuine tokens get here.
		if mesh, err = is.meshes.current(ctx, info.Mesh, true); err != nil {
			return err
		}
	}
	switch {
	case mesh.gone:
		return fmt.Errorf("%w: mesh %q does not exist any more: its tokens were deleted with it", ErrInvalid, info.Mesh)
	case stale():
		if !ring.of(mesh.created) {
			is.keys.drop(info.Mesh, ring)
		}
		return fmt.Errorf("%w: the token was issued in an earlier mesh named %q, deleted since (the mesh of that name now was created %s); issue a new token",
			ErrInvalid, info.Mesh, mesh.created.Format(time.RFC3339))
	}
	revoked, err := is.revs.isRevoked(ctx, info.Mesh, info.ID)
	if err != nil {
		return err
	}
	if revoked {
		return fmt.Errorf("%w: token %s of dataplane %s/%s was revoked; issue a new one", ErrRevoked, info.ID, info.Mesh, info.Name)
	}
	return nil
}

// lookup finds the key a token claims to be signed with. The claimed mesh picks the key: a
// genuine token of another mesh verifies, and is then refused as a token for another
// dataplane rather than as a forgery.
func (is *Issuer) lookup(ctx context.Context, t *jwt.Token) (any, *keyRing, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, nil, fmt.Errorf("%w: the token names no signing key (kid)", ErrInvalid)
	}
	c, _ := t.Claims.(*claims)
	if c == nil || c.Mesh == "" {
		return nil, nil, fmt.Errorf("%w: the token names no mesh", ErrInvalid)
	}
	if err := checkMesh(c.Mesh); err != nil {
		return nil, nil, fmt.Errorf("%w: the token's mesh %q is not a mesh name", ErrInvalid, c.Mesh)
	}
	return is.keys.ringFor(ctx, c.Mesh, kid)
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
// Closing the streams already open with it is up to the caller (see Recheck). Revocations of
// tokens that have expired anyway are dropped from the list as it is written.
func (is *Issuer) Revoke(ctx context.Context, mesh, id string) error {
	if err := checkMesh(mesh); err != nil {
		return err
	}
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: token id must be 1 to 128 characters", ErrBadRequest)
	}
	st, err := is.meshes.exists(ctx, mesh)
	if err != nil {
		return err
	}
	if st.gone {
		return unknownMesh(mesh)
	}
	added, pruned, err := is.revs.revoke(ctx, mesh, id, st.created)
	if err != nil {
		return err
	}
	is.log.Info("revoked dataplane token", "mesh", mesh, "id", id, "already", !added, "pruned", pruned)
	return nil
}

// DeleteMesh deletes the signing keys and the revocation list of the mesh incarnation created
// at created (and unstamped ones, from before incarnations, and the implicit mesh's, which a
// Mesh resource adopts); those of another mesh of the same name stay. Deleting what is already
// gone is not an error.
func (is *Issuer) DeleteMesh(ctx context.Context, mesh string, created time.Time) error {
	is.keys.drop(mesh, nil)
	is.revs.forget(mesh)
	is.meshes.forget(mesh)
	var deleted []string
	for _, key := range []string{signingKeyState(mesh), revocationsState(mesh)} {
		ok, err := deleteStamped(ctx, is.store, key, created)
		if err != nil {
			return fmt.Errorf("deleting the token state of mesh %q: %w", mesh, err)
		}
		if ok {
			deleted = append(deleted, key)
		}
	}
	if len(deleted) > 0 {
		is.log.Info("deleted the token keys and revocations of a deleted mesh", "mesh", mesh, "created", created, "state", deleted)
	}
	return nil
}

// deleteStamped deletes a state entry stamped (meshCreated) with the incarnation created, or
// with none (from before incarnations), or with the implicit mesh's (which created adopted), at
// the version read, so that another mesh's entry written meanwhile survives.
func deleteStamped(ctx context.Context, s StateStore, key string, created time.Time) (bool, error) {
	for range 3 {
		raw, version, err := s.GetState(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		var stamp struct {
			MeshCreated time.Time `json:"meshCreated"`
		}
		// An entry that does not decode is of no use to any mesh: it goes too.
		if json.Unmarshal(raw, &stamp) == nil && !stamp.MeshCreated.IsZero() && !sameMesh(stamp.MeshCreated, created) {
			return false, nil
		}
		err = s.DeleteState(ctx, key, version)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		return err == nil, err
	}
	return false, fmt.Errorf("state %s keeps changing", key)
}

// newTokenID is 128 random bits, unguessable, so a revocation names exactly one token; then
// the expiry, so a revocation can be dropped once its token has expired.
func newTokenID(expires time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a token id: %w", err)
	}
	return tokenID(hex.EncodeToString(b[:]), expires), nil
}
