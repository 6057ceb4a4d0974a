package tokens

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audience marks a token as a dataplane token, so that no other kind of token signed with the
// same keys later could be replayed to the xDS server.
const Audience = "meshgate-dataplane"

// claims is the token body: sub = dataplane name, mesh, iat, exp, jti, aud.
type claims struct {
	Mesh string `json:"mesh"`
	jwt.RegisteredClaims
}

// Info is what a token says about itself, unverified.
type Info struct {
	ID        string
	Mesh      string
	Name      string
	KeyID     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// ParseUnverified reads a token's claims without checking its signature: for tools that need
// the id or the dataplane of a token they hold (revoke by token, bootstrap sanity checks),
// never for deciding whether to trust it.
func ParseUnverified(token string) (Info, error) {
	var c claims
	t, _, err := jwt.NewParser().ParseUnverified(token, &c)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	info := Info{ID: c.ID, Mesh: c.Mesh, Name: c.Subject}
	info.KeyID, _ = t.Header["kid"].(string)
	if c.IssuedAt != nil {
		info.IssuedAt = c.IssuedAt.Time
	}
	if c.ExpiresAt != nil {
		info.ExpiresAt = c.ExpiresAt.Time
	}
	return info, nil
}
