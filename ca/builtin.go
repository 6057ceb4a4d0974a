package ca

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"
	kmsapi "go.step.sm/crypto/kms/apiv1"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// builtinConf is Kuma's builtin CA conf. It shapes a root only when the root is created; a
// stored root is kept as it is, as in Kuma (a different root means a new backend: rotation).
type builtinConf struct {
	CACert *struct {
		// RSABits asks for an RSA root of that size; without it the root is ECDSA P-256
		// (Kuma's default is RSA 2048).
		RSABits    int    `json:"RSAbits"`
		Expiration string `json:"expiration"`
	} `json:"caCert"`
}

// builtinState is what the store keeps per builtin backend: the root and its key, as PEM, and
// the incarnation of the mesh they belong to: the Mesh's creation time. A mesh deleted and
// created again under the same name gets a new root, even if the first one's was never
// deleted. Roots stored before incarnations were recorded have none (see rootBelongs).
type builtinState struct {
	MeshCreated time.Time `json:"meshCreated,omitzero"`
	Cert        string    `json:"cert"`
	Key         string    `json:"key"`
}

// legacySlack: an unstamped root belongs to the mesh if it was made after the mesh (roots are
// made on first use), give or take this much clock skew between control planes.
const legacySlack = 5 * time.Minute

// rootBelongs says whether a stored root belongs to the mesh incarnation created at created
// (zero: unknown, anything does).
func (m *Manager) rootBelongs(st builtinState, created time.Time) bool {
	switch {
	case created.IsZero():
		return true
	case !st.MeshCreated.IsZero():
		return st.MeshCreated.Equal(created)
	}
	chain, err := certs.ParseCertificates([]byte(st.Cert))
	if err != nil || len(chain) == 0 {
		return true // builtinFromState reports it
	}
	made := chain[0].NotBefore.Add(m.opts.Backdate)
	return !made.Before(created.Add(-legacySlack))
}

// stateKey is where the store keeps a builtin backend's root and key.
func stateKey(mesh, backendName string) string { return "ca/" + mesh + "/" + backendName }

func (m *Manager) loadBuiltin(ctx context.Context, mesh string, created time.Time, b api.CABackend, lifetime time.Duration) (*backend, error) {
	if m.opts.ZoneIntermediates != nil {
		return m.loadZoneBuiltin(ctx, mesh, created, b, lifetime)
	}
	var conf builtinConf
	if err := decodeConf(b.Conf, &conf); err != nil {
		return nil, err
	}
	spec, rootLifetime, err := m.builtinParams(conf)
	if err != nil {
		return nil, err
	}
	key := stateKey(mesh, b.Name)
	created = created.UTC()
	// Two control planes starting at once both find no root and both generate one; only the
	// first create wins (each writes at the version it read), and the loser adopts the winner's
	// root, so the mesh has one root whoever started first. A root of an earlier mesh of the
	// same name is replaced the same way.
	for range 3 {
		val, version, err := m.store.GetState(ctx, key)
		expected := int64(-1)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("load root: %w", err)
		default:
			var st builtinState
			if err := json.Unmarshal(val, &st); err != nil {
				return nil, fmt.Errorf("stored root: %w", err)
			}
			switch {
			case m.rootBelongs(st, created):
				if st.MeshCreated.IsZero() && !created.IsZero() {
					// A root from before incarnations: claim it, so a later mesh cannot.
					st.MeshCreated = created
					if val, err = json.Marshal(st); err != nil {
						return nil, fmt.Errorf("stored root: %w", err)
					}
					if _, err := m.store.PutState(ctx, key, val, version); errors.Is(err, store.ErrConflict) {
						continue
					} else if err != nil {
						return nil, fmt.Errorf("save root: %w", err)
					}
				}
				return m.builtinFromState(ctx, b, val, lifetime)
			case st.MeshCreated.After(created):
				return nil, fmt.Errorf("state %s: the mesh was re-created meanwhile", key)
			}
			expected = version // an earlier mesh's root: replaced, never reused
		}
		if err := m.checkCurrent(ctx, mesh, created); err != nil {
			return nil, err
		}
		val, err = m.generateRoot(ctx, mesh, created, spec, rootLifetime)
		if err != nil {
			return nil, err
		}
		_, err = m.store.PutState(ctx, key, val, expected)
		if err == nil {
			return m.builtinFromState(ctx, b, val, lifetime)
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("save root: %w", err)
		}
	}
	return nil, fmt.Errorf("state %s: root was written concurrently but cannot be read back", key)
}

// checkCurrent refuses to create a root for a mesh incarnation the store no longer has: a caller
// holding an older view of the meshes (an API request served from the last build while the
// mesh is being deleted) would otherwise leave a root behind that nothing deletes. It costs one
// read, and roots are created rarely.
func (m *Manager) checkCurrent(ctx context.Context, mesh string, created time.Time) error {
	if created.IsZero() {
		return nil // incarnations unknown
	}
	rec, err := m.store.Get(ctx, store.Key{Kind: string(api.KindMesh), Name: mesh})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("mesh %q no longer exists", mesh)
	case err != nil:
		return fmt.Errorf("looking up mesh %q: %w", mesh, err)
	case !rec.CreationTime.Equal(created):
		return fmt.Errorf("mesh %q was deleted and created again since", mesh)
	}
	return nil
}

// deleteBuiltin deletes a builtin backend's stored root if it is stamped with the mesh
// incarnation created at created (or unstamped), at the version read, so that another mesh's
// root written meanwhile survives.
func (m *Manager) deleteBuiltin(ctx context.Context, mesh, backendName string, created time.Time) (bool, error) {
	key := stateKey(mesh, backendName)
	for range 3 {
		val, version, err := m.store.GetState(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		var st builtinState
		if json.Unmarshal(val, &st) == nil && !st.MeshCreated.IsZero() && !st.MeshCreated.Equal(created.UTC()) {
			return false, nil
		}
		err = m.store.DeleteState(ctx, key, version)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		return err == nil, err
	}
	return false, fmt.Errorf("state %s keeps changing", key)
}

func (m *Manager) builtinParams(conf builtinConf) (certs.KeySpec, time.Duration, error) {
	spec, lifetime := certs.ECDSAP256, m.opts.RootLifetime
	if conf.CACert == nil {
		return spec, lifetime, nil
	}
	if conf.CACert.RSABits != 0 {
		spec = certs.RSA(conf.CACert.RSABits)
		if err := spec.Validate(); err != nil {
			return spec, 0, fmt.Errorf("conf.caCert.RSAbits: %w", err)
		}
	}
	if conf.CACert.Expiration != "" {
		d, err := api.ParseDuration(conf.CACert.Expiration)
		if err != nil {
			return spec, 0, fmt.Errorf("conf.caCert.expiration: %w", err)
		}
		if d <= 0 {
			return spec, 0, errors.New("conf.caCert.expiration: must be a positive duration")
		}
		lifetime = d
	}
	return spec, lifetime, nil
}

// generateRoot creates a root through softcas, as step-ca creates its own, and returns it as
// builtinState JSON.
func (m *Manager) generateRoot(ctx context.Context, mesh string, created time.Time, spec certs.KeySpec, lifetime time.Duration) ([]byte, error) {
	serial, err := certs.NewSerial()
	if err != nil {
		return nil, fmt.Errorf("generate root: %w", err)
	}
	now := m.opts.Now()
	tmpl, err := certs.RootTemplate(certs.RootParams{
		Mesh:      mesh,
		Serial:    serial,
		NotBefore: now.Add(-m.opts.Backdate),
		NotAfter:  now.Add(lifetime),
	})
	if err != nil {
		return nil, fmt.Errorf("generate root: %w", err)
	}
	creator, err := softcas.New(ctx, apiv1.Options{IsCreator: true})
	if err != nil {
		return nil, fmt.Errorf("generate root: softcas: %w", err)
	}
	keyReq := &kmsapi.CreateKeyRequest{SignatureAlgorithm: kmsapi.ECDSAWithSHA256}
	if spec.Type == certs.KeyRSA {
		keyReq = &kmsapi.CreateKeyRequest{SignatureAlgorithm: kmsapi.SHA256WithRSA, Bits: spec.Bits}
	}
	resp, err := creator.CreateCertificateAuthority(&apiv1.CreateCertificateAuthorityRequest{
		Name:      mesh,
		Type:      apiv1.RootCA,
		Template:  tmpl,
		Lifetime:  lifetime,
		Backdate:  m.opts.Backdate,
		CreateKey: keyReq,
	})
	if err != nil {
		return nil, fmt.Errorf("generate %s root: %w", spec, err)
	}
	signer, ok := resp.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("generate root: softkms returned a %T, not a private key", resp.PrivateKey)
	}
	keyPEM, err := certs.EncodePrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("generate root: %w", err)
	}
	val, err := json.Marshal(builtinState{MeshCreated: created, Cert: string(certs.EncodeCertificates(resp.Certificate)), Key: string(keyPEM)})
	if err != nil {
		return nil, fmt.Errorf("generate root: %w", err)
	}
	return val, nil
}

func (m *Manager) builtinFromState(ctx context.Context, b api.CABackend, val []byte, lifetime time.Duration) (*backend, error) {
	var st builtinState
	if err := json.Unmarshal(val, &st); err != nil {
		return nil, fmt.Errorf("stored root: %w", err)
	}
	chain, err := certs.ParseCertificates([]byte(st.Cert))
	if err != nil {
		return nil, fmt.Errorf("stored root: %w", err)
	}
	key, err := certs.ParsePrivateKey([]byte(st.Key))
	if err != nil {
		return nil, fmt.Errorf("stored root: %w", err)
	}
	if len(chain) != 1 {
		return nil, fmt.Errorf("stored root: %d certificates, want 1", len(chain))
	}
	if err := checkChain(chain, key, m.opts.Now()); err != nil {
		return nil, fmt.Errorf("stored root: %w", err)
	}
	return newSoftBackend(ctx, b.Name, b.Type, chain, key, lifetime)
}
