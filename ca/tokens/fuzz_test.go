package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// genuine is a token this issuer signed, and what Verify must say about it.
type genuine struct {
	token      string
	mesh, name string
	// want is nil for a current token, else the error it must wrap.
	want error
}

// fuzzIssuer is an issuer over a real SQLite store with a stopped clock (so a token's verdict
// never changes during a run), holding a current token in two meshes, an expired one, a revoked
// one and one of a mesh deleted since. It returns them by signing input (`header.payload`): the
// part a signature covers, and so the only thing the fuzzer cannot make up.
func fuzzIssuer(f *testing.F) (*Issuer, StateStore, map[string]genuine) {
	ctx := context.Background()
	db := openDB(f, dbPath(f))
	c := newClock()
	past := &clock{now: c.Now().Add(-48 * time.Hour)}
	meshes := &fuzzMeshes{created: map[string]time.Time{}}
	for _, m := range []string{"default", "other", "deleted"} {
		meshes.created[m] = past.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	is := New(db, Options{Now: c.Now, Logger: quiet(), Meshes: meshes.lookup})
	old := New(db, Options{Now: past.Now, Logger: quiet(), Meshes: meshes.lookup})

	issued := map[string]genuine{}
	add := func(is *Issuer, mesh, name string, validFor time.Duration, want error) genuine {
		tok, err := is.Issue(ctx, IssueRequest{Mesh: mesh, Name: name, ValidFor: validFor})
		require.NoError(f, err)
		g := genuine{token: tok, mesh: mesh, name: name, want: want}
		issued[signingInput(tok)] = g
		return g
	}
	add(is, "default", "gw-1", 0, nil)
	add(is, "other", "gw-1", 0, nil)
	add(old, "default", "gw-old", 24*time.Hour, ErrExpired)
	revoked := add(is, "default", "gw-revoked", 0, ErrRevoked)
	info, err := ParseUnverified(revoked.token)
	require.NoError(f, err)
	require.NoError(f, is.Revoke(ctx, "default", info.ID))
	add(is, "deleted", "gw-1", 0, ErrInvalid)
	meshes.delete("deleted")
	return is, db, issued
}

// fuzzMeshes is the MeshLookup of fuzzIssuer.
type fuzzMeshes struct {
	mu      sync.Mutex
	created map[string]time.Time
}

func (m *fuzzMeshes) lookup(_ context.Context, mesh string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.created[mesh]; ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("mesh %q: %w", mesh, ErrUnknownMesh)
}

func (m *fuzzMeshes) delete(mesh string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.created, mesh)
}

// signingInput is what the token's signature covers.
func signingInput(token string) string {
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		return token[:i]
	}
	return token
}

// FuzzVerify presents arbitrary strings as the token of arbitrary dataplanes. Verify and
// ParseUnverified must never panic; Verify accepts only a token this issuer signed (its signing
// input is one of the issued tokens'), current, unrevoked and for exactly that dataplane; and
// only a token it signed is ever called expired, revoked or another dataplane's (the package
// promise that signatures are checked first). Every refusal is one of the package's errors:
// the store is healthy, so "could not check" is never the answer.
//
// The seeds are the genuine tokens, the same presented as an authorization header would carry
// them, and the classic forgeries: alg none, HS256 keyed with the public key, a token signed by
// another key under a genuine kid, and genuine signatures over edited claims.
func FuzzVerify(f *testing.F) {
	is, db, issued := fuzzIssuer(f)
	for _, g := range issued {
		f.Add(g.token, g.mesh, g.name)
		f.Add(g.token, g.mesh, g.name+"x")
		f.Add(g.token, "other", g.name)
		f.Add("Bearer "+g.token, g.mesh, g.name)
		f.Add(" "+g.token+"\n", g.mesh, g.name)
		for _, forged := range forgeries(f, db, g.token) {
			f.Add(forged, g.mesh, g.name)
		}
	}
	f.Add("", "default", "gw-1")
	f.Add("a.b.c", "default", "gw-1")
	f.Add("...", "", "")
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.", "default", "gw-1")

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token, mesh, name string) {
		_, _ = ParseUnverified(token)
		info, err := is.Verify(ctx, token, mesh, name)
		g, signed := issued[signingInput(token)]
		switch {
		case err == nil:
			if !signed || g.want != nil || g.mesh != mesh || g.name != name {
				t.Fatalf("verified a token that is not a current token of %s/%s: %q", mesh, name, token)
			}
			if info.Mesh != mesh || info.Name != name {
				t.Fatalf("verified token of %s/%s says it is %s/%s", mesh, name, info.Mesh, info.Name)
			}
		case errors.Is(err, ErrExpired), errors.Is(err, ErrRevoked), errors.Is(err, ErrWrongDataplane):
			if !signed {
				t.Fatalf("a token this issuer did not sign was refused as genuine (%v): %q", err, token)
			}
		case errors.Is(err, ErrMissing):
			if token != "" {
				t.Fatalf("a token was called missing: %q", token)
			}
		case errors.Is(err, ErrInvalid):
		default:
			t.Fatalf("refusal is none of the package's errors: %v", err)
		}
		// The exact token issued, presented for its own dataplane, gets its own verdict.
		if signed && token == g.token && mesh == g.mesh && name == g.name {
			if g.want == nil && err != nil || g.want != nil && !errors.Is(err, g.want) {
				t.Fatalf("genuine token of %s/%s: got %v, want %v", mesh, name, err, g.want)
			}
		}
	})
}

// FuzzAuthorization presents arbitrary authorization values (an HTTP header, or the xDS
// stream's gRPC metadata, which carries the same value) for arbitrary node ids, parsed as
// every meshgate endpoint parses them (wire.BearerToken) and the node id split as the xDS
// server splits it (`<mesh>.<name>` at the first dot). Nothing panics; a token is read only
// from a Bearer value (any case) and is exactly what follows the scheme, trimmed; and the
// stream is admitted only with a current token this issuer signed for that node.
func FuzzAuthorization(f *testing.F) {
	is, _, issued := fuzzIssuer(f)
	for _, g := range issued {
		node := g.mesh + "." + g.name
		for _, v := range []string{"Bearer " + g.token, "bearer\t" + g.token, "  BEARER   " + g.token + " ", "Bearer " + g.token + " x",
			"Basic " + g.token, g.token, "Bearer", "Bearer  ", "Bearer " + g.token[:len(g.token)-1]} {
			f.Add(v, node)
		}
		f.Add("Bearer "+g.token, g.mesh+"."+g.name+".x")
		f.Add("Bearer "+g.token, g.mesh)
	}
	f.Add("", "")
	f.Add("Bearer \x00", "default.gw-1")

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, header, node string) {
		token, ok := wire.BearerToken(header)
		if ok {
			// `Bearer`, a space or tab, any whitespace, the token.
			v := strings.TrimSpace(header)
			scheme, found := strings.CutSuffix(v, token)
			if token == "" || strings.TrimSpace(token) != token || !found || len(scheme) < 7 ||
				!strings.EqualFold(scheme[:6], "Bearer") || scheme[6] != ' ' && scheme[6] != '\t' ||
				strings.TrimSpace(scheme[6:]) != "" {
				t.Fatalf("BearerToken(%q) = %q", header, token)
			}
		}
		mesh, name, split := strings.Cut(node, ".")
		if !ok || !split {
			return // refused before any token check
		}
		_, err := is.Verify(ctx, token, mesh, name)
		g, signed := issued[signingInput(token)]
		if err == nil && (!signed || g.want != nil || g.mesh != mesh || g.name != name) {
			t.Fatalf("admitted node %q with authorization %q", node, header)
		}
	})
}

// publicKey reads a signing key's public half from the store, as an attacker who got hold of
// it (it is public, after all) would use it.
func publicKey(f *testing.F, db StateStore, mesh, kid string) *ecdsa.PublicKey {
	raw, _, err := db.GetState(context.Background(), "tokens/"+mesh+"/signing-key")
	require.NoError(f, err)
	var stored struct {
		Keys []struct {
			ID         string `json:"id"`
			PrivateKey string `json:"privateKey"`
		} `json:"keys"`
	}
	require.NoError(f, json.Unmarshal(raw, &stored))
	for _, k := range stored.Keys {
		if k.ID == kid {
			block, _ := pem.Decode([]byte(k.PrivateKey))
			require.NotNil(f, block)
			key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			require.NoError(f, err)
			return &key.(*ecdsa.PrivateKey).PublicKey
		}
	}
	f.Fatalf("mesh %s has no key %s", mesh, kid)
	return nil
}

// forgeries derives from a genuine token what an attacker would try.
func forgeries(f *testing.F, db StateStore, token string) []string {
	var c claims
	parsed, parts, err := jwt.NewParser().ParseUnverified(token, &c)
	require.NoError(f, err)
	kid, _ := parsed.Header["kid"].(string)
	pubDER, err := x509.MarshalPKIXPublicKey(publicKey(f, db, c.Mesh, kid))
	require.NoError(f, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(f, err)

	sign := func(method jwt.SigningMethod, key any, cl claims) string {
		tok := jwt.NewWithClaims(method, cl)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		require.NoError(f, err)
		return s
	}
	enc := base64.RawURLEncoding.EncodeToString
	edited := func(mutate func(*claims)) string {
		cl := c
		mutate(&cl)
		body, err := jwt.NewWithClaims(jwt.SigningMethodES256, cl).SigningString()
		require.NoError(f, err)
		// The genuine header and signature around edited claims.
		return parts[0] + "." + strings.SplitN(body, ".", 2)[1] + "." + parts[2]
	}
	far := jwt.NewNumericDate(time.Now().Add(100 * 365 * 24 * time.Hour))
	return []string{
		sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c),
		sign(jwt.SigningMethodHS256, pubPEM, c),
		sign(jwt.SigningMethodHS256, pubDER, c),
		sign(jwt.SigningMethodES256, attacker, c),
		enc([]byte(`{"alg":"ES256","kid":"`+kid+`","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
		edited(func(cl *claims) { cl.Subject = "gw-2" }),
		edited(func(cl *claims) { cl.Mesh = "other" }),
		edited(func(cl *claims) { cl.ExpiresAt = far }),
		edited(func(cl *claims) { cl.ID = "" }),
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		token + "." + parts[2],
	}
}
