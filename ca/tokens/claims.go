package tokens

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audience marks a token as a dataplane token, so that no other kind of token signed with the
// same keys later could be replayed to the xDS server.
const Audience = "meshgate-dataplane"

// claims is the token body: sub = dataplane name, mesh, inc, iat, exp, jti, aud.
type claims struct {
	Mesh string `json:"mesh"`
	// Incarnation is the creation time of the mesh the token was issued in (Unix nanoseconds;
	// absent in tokens issued before meshes had incarnations): a mesh deleted and created again
	// under the same name is another mesh, and refuses the first one's tokens.
	Incarnation int64 `json:"inc,omitempty"`
	jwt.RegisteredClaims
}

func (c *claims) meshCreated() time.Time {
	if c.Incarnation == 0 {
		return time.Time{}
	}
	return time.Unix(0, c.Incarnation).UTC()
}

// Info is what a token says about itself, unverified (or, from Verify, verified).
type Info struct {
	ID    string
	Mesh  string
	Name  string
	KeyID string
	// MeshCreated is the creation time of the mesh the token was issued in; zero in tokens
	// issued before it was recorded.
	MeshCreated time.Time
	IssuedAt    time.Time
	ExpiresAt   time.Time
}

func infoOf(c *claims, kid string) Info {
	info := Info{ID: c.ID, Mesh: c.Mesh, Name: c.Subject, KeyID: kid, MeshCreated: c.meshCreated()}
	if c.IssuedAt != nil {
		info.IssuedAt = c.IssuedAt.Time
	}
	if c.ExpiresAt != nil {
		info.ExpiresAt = c.ExpiresAt.Time
	}
	return info
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
	kid, _ := t.Header["kid"].(string)
	return infoOf(&c, kid), nil
}

// Token ids are 128 random bits in hex, then the token's expiry in Unix seconds:
// `<32 hex>-<exp>`. A revocation names a token by its id only, so the id is what tells when
// a revocation may be forgotten: once the token has expired anyway. Ids of tokens issued
// before this format have no expiry and stay revoked.
const idExpirySep = "-"

func tokenID(random string, expires time.Time) string {
	return random + idExpirySep + strconv.FormatInt(expires.Unix(), 10)
}

// idExpiry is the expiry a token id states, if it states one.
func idExpiry(id string) (time.Time, bool) {
	_, exp, ok := strings.Cut(id, idExpirySep)
	if !ok {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}
