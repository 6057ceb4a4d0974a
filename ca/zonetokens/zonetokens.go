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
	// IngressAudience marks a ZoneIngress token: a zone control plane issues it for one of its
	// ZoneIngresses (sub = the ingress's name) and its xDS server accepts it for that ingress.
	IngressAudience = "meshgate-zone-ingress"
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
	// Ingress makes an issuer of ZoneIngress tokens: its own audience, signing key and
	// revocations, so neither kind of token is ever accepted as the other.
	Ingress bool
}

type Issuer struct {
	st  StateStore
	log *slog.Logger
	now func() time.Time
	// audience, keyState and revokedPrefix separate zone tokens from ingress tokens.
	audience, keyState, revokedPrefix, what string
}

type IssueRequest struct {
	Zone     string
	ValidFor time.Duration
}

func New(st StateStore, opts Options) *Issuer {
	is := &Issuer{st: st, log: opts.Logger, now: opts.Now,
		audience: Audience, keyState: keyState, revokedPrefix: revokedPrefix, what: "zone"}
	if opts.Ingress {
		is.audience, is.keyState, is.revokedPrefix, is.what = IngressAudience, "zoneingresstokens/signing-key", "zoneingresstokens/revoked/", "zone ingress"
	}
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
		return "", fmt.Errorf("%w: %s name %q is not a DNS label", ErrBadRequest, is.what, req.Zone)
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
		Audience:  jwt.ClaimStrings{is.audience},
		ID:        hex.EncodeToString(id),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(req.ValidFor)),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("signing a token for %s %s: %w", is.what, req.Zone, err)
	}
	is.log.Info(is.what+" token issued", is.what, req.Zone, "id", claims.ID, "expires", claims.ExpiresAt.Time)
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
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(is.audience), jwt.WithExpirationRequired(),
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
		return "", fmt.Errorf("%w: token %s of %s %s", ErrRevoked, c.ID, is.what, c.Subject)
	}
	if revoked, err = is.SubjectRevoked(ctx, c.Subject); err != nil {
		return "", err
	}
	if revoked {
		return "", fmt.Errorf("%w: %s %s was revoked, with every token issued to it", ErrRevoked, is.what, c.Subject)
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

// Expiry returns a token's expiry without checking it (the token was verified when its
// stream opened), so the stream can end when the token does.
func Expiry(token string) (time.Time, error) {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.ExpiresAt == nil {
		return time.Time{}, nil
	}
	return c.ExpiresAt.Time, nil
}

// Revoke puts a token id on the revocation list; revoking twice is not an error.
func (is *Issuer) Revoke(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty token id", ErrBadRequest)
	}
	_, err := is.st.PutState(ctx, is.revokedPrefix+id, []byte(is.now().UTC().Format(time.RFC3339)), -1)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("revoking zone token %s: %w", id, err)
	}
	is.log.Info("zone token revoked", "id", id)
	return nil
}

func (is *Issuer) revoked(ctx context.Context, id string) (bool, error) {
	_, _, err := is.st.GetState(ctx, is.revokedPrefix+id)
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
		raw, _, err := is.st.GetState(ctx, is.keyState)
		if err == nil {
			return parseKey(is.keyState, raw)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("reading the %s token signing key: %w", is.what, err)
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		_, err = is.st.PutState(ctx, is.keyState, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), -1)
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("storing the %s token signing key: %w", is.what, err)
		}
	}
	return nil, fmt.Errorf("%s token signing key: create raced three times", is.what)
}

func parseKey(keyState string, raw []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, fmt.Errorf("token signing key %s: not PEM", keyState)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("token signing key %s: %w", keyState, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("token signing key %s: not an ECDSA key", keyState)
	}
	return ec, nil
}

// RevokeSubject refuses every token of a zone (or ingress), issued before or after: what
// `meshgate zone revoke` does to a zone whose control plane may be compromised, whose tokens
// the operator may not all know.
func (is *Issuer) RevokeSubject(ctx context.Context, subject string) error {
	if !zoneName.MatchString(subject) {
		return fmt.Errorf("%w: %s name %q is not a DNS label", ErrBadRequest, is.what, subject)
	}
	_, err := is.st.PutState(ctx, is.revokedPrefix+"subject/"+subject, []byte(is.now().UTC().Format(time.RFC3339)), -1)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("revoking %s %s: %w", is.what, subject, err)
	}
	is.log.Warn(is.what+" revoked", is.what, subject)
	return nil
}

// SubjectRevoked reports whether RevokeSubject was called for subject.
func (is *Issuer) SubjectRevoked(ctx context.Context, subject string) (bool, error) {
	_, _, err := is.st.GetState(ctx, is.revokedPrefix+"subject/"+subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking revocation of %s %s: %w", is.what, subject, err)
	}
	return true, nil
}
