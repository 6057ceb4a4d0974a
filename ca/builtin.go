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

// builtinState is what the store keeps per builtin backend: the root and its key, as PEM.
type builtinState struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// stateKey is where the store keeps a builtin backend's root and key.
func stateKey(mesh, backendName string) string { return "ca/" + mesh + "/" + backendName }

func (m *Manager) loadBuiltin(ctx context.Context, mesh string, b api.CABackend, lifetime time.Duration) (*backend, error) {
	var conf builtinConf
	if err := decodeConf(b.Conf, &conf); err != nil {
		return nil, err
	}
	spec, rootLifetime, err := m.builtinParams(conf)
	if err != nil {
		return nil, err
	}
	key := stateKey(mesh, b.Name)
	// Two control planes starting at once both find no root and both generate one; only the
	// first create wins (expected version -1), and the loser adopts the winner's root, so the
	// mesh has one root whoever started first.
	for range 2 {
		val, _, err := m.store.GetState(ctx, key)
		if err == nil {
			return m.builtinFromState(ctx, b, val, lifetime)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("load root: %w", err)
		}
		val, err = m.generateRoot(ctx, mesh, spec, rootLifetime)
		if err != nil {
			return nil, err
		}
		_, err = m.store.PutState(ctx, key, val, -1)
		if err == nil {
			return m.builtinFromState(ctx, b, val, lifetime)
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("save root: %w", err)
		}
	}
	return nil, fmt.Errorf("state %s: root was written concurrently but cannot be read back", key)
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
func (m *Manager) generateRoot(ctx context.Context, mesh string, spec certs.KeySpec, lifetime time.Duration) ([]byte, error) {
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
	val, err := json.Marshal(builtinState{Cert: string(certs.EncodeCertificates(resp.Certificate)), Key: string(keyPEM)})
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
