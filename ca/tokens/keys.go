package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/meshgate/meshgate/store"
)

// storedKeys is the value of tokens/<mesh>/signing-key. It is a list so that a key can be
// rotated in while tokens signed by the previous one still verify; the last key signs.
type storedKeys struct {
	// MeshCreated is the incarnation of the mesh the keys belong to (see MeshLookup); zero in
	// keys stored before incarnations were recorded.
	MeshCreated time.Time   `json:"meshCreated,omitzero"`
	Keys        []storedKey `json:"keys"`
}

type storedKey struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// PrivateKey is a PKCS #8 PEM block.
	PrivateKey string `json:"privateKey"`
}

// keyRing is one mesh's keys, decoded.
type keyRing struct {
	byID    map[string]*ecdsa.PrivateKey
	signing string
	loaded  time.Time
	// meshCreated is the stored incarnation; made is when the oldest key was created.
	meshCreated, made time.Time
	version           int64
	// doc is the stored form, rewritten when the ring is claimed for an incarnation.
	doc storedKeys
}

// of says whether the ring belongs to the mesh incarnation created at created.
func (r *keyRing) of(created time.Time) bool { return belongs(r.meshCreated, r.made, created) }

// keyCache keeps every mesh's decoded keys in memory, so that the xDS connect path costs one
// signature check and no store read. Within one incarnation of a mesh keys only ever get
// added, so a cached ring is never wrong, only possibly incomplete: an unknown kid triggers a
// reload, at most once per reloadEvery per mesh, so a stream of forged kids cannot turn into a
// stream of store reads. A ring of an earlier incarnation is dropped as soon as it is seen.
type keyCache struct {
	store       StateStore
	now         func() time.Time
	reloadEvery time.Duration

	mu    sync.RWMutex
	rings map[string]*keyRing // only meshes that have keys: forged mesh names add nothing
}

func newKeyCache(s StateStore, now func() time.Time, reloadEvery time.Duration) *keyCache {
	return &keyCache{store: s, now: now, reloadEvery: reloadEvery, rings: map[string]*keyRing{}}
}

func (c *keyCache) cached(mesh string) *keyRing {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rings[mesh]
}

func (c *keyCache) remember(mesh string, ring *keyRing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rings[mesh] = ring
}

// drop forgets the mesh's ring if it is still ring (nil: whatever it is).
func (c *keyCache) drop(mesh string, ring *keyRing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ring == nil || c.rings[mesh] == ring {
		delete(c.rings, mesh)
	}
}

// signer returns the signing key of the mesh incarnation created at created, creating it if
// that incarnation has none yet. Keys of an earlier incarnation are replaced, never reused.
// Two control planes creating keys at once agree: the store accepts only the first write (each
// writes at the version it read), and the loser adopts the winner's key.
func (c *keyCache) signer(ctx context.Context, mesh string, created time.Time) (string, *ecdsa.PrivateKey, error) {
	if ring := c.cached(mesh); ring != nil && ring.of(created) && !claimable(ring.meshCreated, created) {
		return ring.signing, ring.byID[ring.signing], nil
	}
	const attempts = 3
	for range attempts {
		ring, err := c.load(ctx, mesh)
		version := int64(-1) // absent: create
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return "", nil, err
		case ring.of(created):
			if claimable(ring.meshCreated, created) {
				// Keys from before incarnations (or of the implicit mesh this one adopts):
				// claim them for this one, so that a later mesh of the same name cannot.
				ring, err = c.write(ctx, mesh, created, ring, ring.version)
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					return "", nil, err
				}
			}
			c.remember(mesh, ring)
			return ring.signing, ring.byID[ring.signing], nil
		default:
			version = ring.version // an earlier incarnation's keys: replace them
		}
		ring, err = c.write(ctx, mesh, created, nil, version)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		c.remember(mesh, ring)
		return ring.signing, ring.byID[ring.signing], nil
	}
	return "", nil, fmt.Errorf("storing the token signing key of mesh %q: still conflicting after %d attempts: %w", mesh, attempts, store.ErrConflict)
}

// verifier returns the public key a token of mesh names by kid. It never creates keys: a mesh
// nobody issued a token for has nothing to verify against.
func (c *keyCache) verifier(ctx context.Context, mesh, kid string) (*ecdsa.PublicKey, error) {
	pub, _, err := c.ringFor(ctx, mesh, kid)
	return pub, err
}

// ringFor is verifier, and also returns the ring the key is in.
func (c *keyCache) ringFor(ctx context.Context, mesh, kid string) (*ecdsa.PublicKey, *keyRing, error) {
	ring := c.cached(mesh)
	if ring != nil {
		if k, ok := ring.byID[kid]; ok {
			return &k.PublicKey, ring, nil
		}
		if c.now().Sub(ring.loaded) < c.reloadEvery {
			return nil, nil, unknownKey(mesh, kid)
		}
	}
	ring, err := c.load(ctx, mesh)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: mesh %q has no token signing key (no token was ever issued in it, or the mesh was deleted)", ErrInvalid, mesh)
	}
	if err != nil {
		return nil, nil, err
	}
	c.remember(mesh, ring)
	if k, ok := ring.byID[kid]; ok {
		return &k.PublicKey, ring, nil
	}
	return nil, nil, unknownKey(mesh, kid)
}

func unknownKey(mesh, kid string) error {
	return fmt.Errorf("%w: signed by key %q, which is not a signing key of mesh %q (was the key rotated, the mesh re-created, or the token issued by another control plane?); issue a new token", ErrInvalid, kid, mesh)
}

func (c *keyCache) load(ctx context.Context, mesh string) (*keyRing, error) {
	raw, version, err := c.store.GetState(ctx, signingKeyState(mesh))
	if err != nil {
		return nil, fmt.Errorf("reading the token signing keys of mesh %q: %w", mesh, err)
	}
	var sk storedKeys
	if err := json.Unmarshal(raw, &sk); err != nil {
		return nil, fmt.Errorf("decoding the token signing keys of mesh %q: %w", mesh, err)
	}
	if len(sk.Keys) == 0 {
		return nil, fmt.Errorf("the token signing keys of mesh %q: the stored list is empty", mesh)
	}
	ring := &keyRing{byID: map[string]*ecdsa.PrivateKey{}, loaded: c.now(), meshCreated: sk.MeshCreated, version: version, doc: sk}
	for _, k := range sk.Keys {
		key, err := decodeKey(k)
		if err != nil {
			return nil, fmt.Errorf("the token signing keys of mesh %q: %w", mesh, err)
		}
		ring.byID[k.ID] = key
		ring.signing = k.ID
		if ring.made.IsZero() || k.Created.Before(ring.made) {
			ring.made = k.Created
		}
	}
	return ring, nil
}

// write stores the mesh's keys for the incarnation created at created: keep's keys (claiming
// them), or a new first key when keep is nil; expected is the version for PutState.
func (c *keyCache) write(ctx context.Context, mesh string, created time.Time, keep *keyRing, expected int64) (*keyRing, error) {
	var ring *keyRing
	if keep != nil {
		claimed := *keep
		ring = &claimed
		ring.doc.MeshCreated = created.UTC()
	} else {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generating a token signing key for mesh %q: %w", mesh, err)
		}
		enc, err := encodeKey(key, c.now())
		if err != nil {
			return nil, err
		}
		ring = &keyRing{
			byID: map[string]*ecdsa.PrivateKey{enc.ID: key}, signing: enc.ID, made: enc.Created,
			doc: storedKeys{MeshCreated: created.UTC(), Keys: []storedKey{enc}},
		}
	}
	ring.meshCreated, ring.loaded = ring.doc.MeshCreated, c.now()
	raw, err := json.Marshal(ring.doc)
	if err != nil {
		return nil, err
	}
	if ring.version, err = c.store.PutState(ctx, signingKeyState(mesh), raw, expected); err != nil {
		return nil, fmt.Errorf("storing the token signing key of mesh %q: %w", mesh, err)
	}
	return ring, nil
}

// keyID names a key by its public half, so the same key always has the same id and an id
// cannot point at a different key after a bad restore.
func keyID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding a token signing key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:16]), nil
}

func encodeKey(key *ecdsa.PrivateKey, created time.Time) (storedKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return storedKey{}, fmt.Errorf("encoding a token signing key: %w", err)
	}
	id, err := keyID(&key.PublicKey)
	if err != nil {
		return storedKey{}, err
	}
	return storedKey{ID: id, Created: created.UTC(), PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}, nil
}

func decodeKey(k storedKey) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %q: not a PKCS #8 PEM block", k.ID)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", k.ID, err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key %q: not an ECDSA P-256 key", k.ID)
	}
	id, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	if id != k.ID {
		return nil, fmt.Errorf("key %q: its public key has id %q", k.ID, id)
	}
	return key, nil
}
