// Package zonetokens issues and verifies the tokens a zone control plane presents to the global
// one (KDS). Tokens are ES256 JWTs with audience "meshgate-zone", sub = zone name, a jti, and an
// expiry. The signing key is created on first use and kept in the store's state, with a
// version-checked create so that two global replicas end up with the same key; revocations are
// state entries too, so every replica sees them.
package zonetokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/meshgate/meshgate/store"
)

const (
	// Audience separates zone tokens from dataplane tokens signed by the same control plane.
	Audience = "meshgate-zone"
	// DefaultValidFor is the validity of a token issued without one.
	DefaultValidFor = 365 * 24 * time.Hour
	keyState        = "zonetokens/signing-key"
	revokedPrefix   = "zonetokens/revoked/"
)

var (
	ErrMissing    = errors.New("no zone token")
	ErrInvalid    = errors.New("invalid zone token")
	ErrExpired    = errors.New("zone token expired")
	ErrRevoked    = errors.New("zone token revoked")
	ErrBadRequest = errors.New("bad zone token request")
)

var zoneName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)

// StateStore is the part of store.Store the issuer uses.
type StateStore interface {
	GetState(ctx context.Context, key string) ([]byte, int64, error)
	PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (int64, error)
}

type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

type Issuer struct {
	st  StateStore
	log *slog.Logger
	now func() time.Time
}

type IssueRequest struct {
	Zone     string
	ValidFor time.Duration
}

func New(st StateStore, opts Options) *Issuer {
	is := &Issuer{st: st, log: opts.Logger, now: opts.Now}
	if is.log == nil {
		is.log = slog.New(slog.DiscardHandler)
	}
	if is.now == nil {
		is.now = time.Now
	}
	return is
}

// Issue signs a token for a zone.
func (is *Issuer) Issue(ctx context.Context, req IssueRequest) (string, error) {
	if !zoneName.MatchString(req.Zone) {
		return "", fmt.Errorf("%w: zone name %q is not a DNS label", ErrBadRequest, req.Zone)
	}
	if req.ValidFor == 0 {
		req.ValidFor = DefaultValidFor
	}
	if req.ValidFor < time.Second {
		return "", fmt.Errorf("%w: validity %s is under a second", ErrBadRequest, req.ValidFor)
	}
	key, err := is.signingKey(ctx)
	if err != nil {
		return "", err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	now := is.now()
	claims := jwt.RegisteredClaims{
		Subject:   req.Zone,
		Audience:  jwt.ClaimStrings{Audience},
		ID:        hex.EncodeToString(id),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(req.ValidFor)),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("signing a token for zone %s: %w", req.Zone, err)
	}
	is.log.Info("zone token issued", "zone", req.Zone, "id", claims.ID, "expires", claims.ExpiresAt.Time)
	return tok, nil
}

// Verify returns the zone a token was issued for. Errors wrap ErrMissing, ErrInvalid,
// ErrExpired or ErrRevoked; any other error means the token could not be checked.
func (is *Issuer) Verify(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", ErrMissing
	}
	key, err := is.signingKey(ctx)
	if err != nil {
		return "", err
	}
	var c jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(Audience), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(is.now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", fmt.Errorf("%w: %v", ErrExpired, err)
	case err != nil:
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	case c.Subject == "" || c.ID == "":
		return "", fmt.Errorf("%w: the token lacks its zone (sub) or id (jti)", ErrInvalid)
	}
	revoked, err := is.revoked(ctx, c.ID)
	if err != nil {
		return "", err
	}
	if revoked {
		return "", fmt.Errorf("%w: token %s of zone %s", ErrRevoked, c.ID, c.Subject)
	}
	return c.Subject, nil
}

// ID returns a token's id (jti) without checking it, for Revoke.
func ID(token string) (string, error) {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c.ID, nil
}

// Revoke puts a token id on the revocation list; revoking twice is not an error.
func (is *Issuer) Revoke(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty token id", ErrBadRequest)
	}
	_, err := is.st.PutState(ctx, revokedPrefix+id, []byte(is.now().UTC().Format(time.RFC3339)), -1)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("revoking zone token %s: %w", id, err)
	}
	is.log.Info("zone token revoked", "id", id)
	return nil
}

func (is *Issuer) revoked(ctx context.Context, id string) (bool, error) {
	_, _, err := is.st.GetState(ctx, revokedPrefix+id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking revocation of zone token %s: %w", id, err)
	}
	return true, nil
}

// signingKey reads the key, creating it when absent; a replica that loses the create race
// reads the winner's key.
func (is *Issuer) signingKey(ctx context.Context) (*ecdsa.PrivateKey, error) {
	for range 3 {
		raw, _, err := is.st.GetState(ctx, keyState)
		if err == nil {
			return parseKey(raw)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("reading the zone token signing key: %w", err)
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		_, err = is.st.PutState(ctx, keyState, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), -1)
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("storing the zone token signing key: %w", err)
		}
	}
	return nil, errors.New("zone token signing key: create raced three times")
}

func parseKey(raw []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, fmt.Errorf("zone token signing key %s: not PEM", keyState)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("zone token signing key %s: %w", keyState, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("zone token signing key %s: not an ECDSA key", keyState)
	}
	return ec, nil
}
